//! The keyprovider's unix socket, created so that it is never reachable with looser
//! permissions than 0600: whoever can connect can ask for the keys this node may receive.
//!
//! `bind(2)` creates the socket file with the process umask, and a `chmod` afterwards
//! leaves a window in which another local user could connect. So the socket is bound
//! inside a fresh directory of mode 0700 next to its final path, set to 0600 there, and
//! only then linked into place (a link, unlike a rename, never replaces what another
//! process put at the path in the meantime). The umask is process-wide and other threads
//! create files, so it is not touched.
//!
//! Never: replace anything at the path but a stale socket, or bind in a directory that
//! any user may write to without the sticky bit (any of them could swap the socket).

use crate::ProviderError;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

/// Binds the socket at `path` (replacing a stale socket) with mode 0600 from the start.
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener, ProviderError> {
    let io = |what: &str, e: std::io::Error| {
        ProviderError::NotConfigured(format!("{what} {}: {e}", path.display()))
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_directory(parent)?;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(|e| io("removing the stale socket", e))?
        }
        Ok(_) => {
            return Err(ProviderError::NotConfigured(format!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            )))
        }
        Err(_) => {}
    }
    let staging = staging_dir(parent).map_err(|e| io("creating a private directory for", e))?;
    let staged = staging.path().join("socket");
    let listener = tokio::net::UnixListener::bind(&staged).map_err(|e| io("binding", e))?;
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io("setting the mode of", e))?;
    std::fs::hard_link(&staged, path).map_err(|e| io("placing the socket at", e))?;
    Ok(listener)
}

/// Refuses a directory in which other users could replace the socket.
fn check_directory(dir: &Path) -> Result<(), ProviderError> {
    let m = std::fs::metadata(dir).map_err(|e| {
        ProviderError::NotConfigured(format!("the socket's directory {}: {e}", dir.display()))
    })?;
    let mode = m.permissions().mode();
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(ProviderError::NotConfigured(format!(
            "the socket's directory {} is writable by every user (mode {:o}): any of them \
             could replace the socket; use a directory only its owner can write to",
            dir.display(),
            mode & 0o7777
        )));
    }
    Ok(())
}

/// A fresh directory of mode 0700 beside the socket's path, removed (with what it holds)
/// when dropped; the socket it held lives on under its final name. A name someone else took
/// (in a sticky directory) is skipped for another random one, never reused.
fn staging_dir(parent: &Path) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(".ironroot-keyprovider-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(parent)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A directory of mode 0755, as a socket's directory usually is.
    fn temp_dir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("ironroot-kp-socket-")
            .permissions(std::fs::Permissions::from_mode(0o755))
            .tempdir()
            .unwrap()
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test]
    async fn socket_is_never_created_with_umask_permissions() {
        let tmp = temp_dir();
        let dir = tmp.path();
        let socket = dir.join("kp.sock");
        let listener = bind(&socket).unwrap();
        assert!(std::fs::symlink_metadata(&socket)
            .unwrap()
            .file_type()
            .is_socket());
        assert_eq!(mode(&socket), 0o600);
        assert_eq!(
            mode(dir) & 0o002,
            0,
            "the socket's directory is world-writable"
        );
        // The private directory it was bound in is gone; only the socket remains.
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kp.sock"]);
        // And it answers under its final name.
        let (accepted, connected) =
            tokio::join!(listener.accept(), tokio::net::UnixStream::connect(&socket));
        accepted.unwrap();
        connected.unwrap();
    }

    #[test]
    fn socket_is_bound_in_a_directory_no_other_user_can_enter() {
        let tmp = temp_dir();
        let dir = tmp.path();
        let staging = staging_dir(dir).unwrap();
        assert_eq!(mode(staging.path()), 0o700);
        let other = staging_dir(dir).unwrap();
        assert_ne!(other.path(), staging.path());
        drop((staging, other));
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn socket_in_a_world_writable_directory_is_refused_so_no_user_can_swap_it() {
        let tmp = temp_dir();
        let dir = tmp.path();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = bind(&dir.join("kp.sock")).unwrap_err();
        assert!(e.to_string().contains("writable by every user"), "{e}");
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
        // With the sticky bit (as /tmp), other users cannot remove or rename the socket.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        drop(bind(&dir.join("kp.sock")).unwrap());
        assert_eq!(mode(&dir.join("kp.sock")), 0o600);
    }

    #[tokio::test]
    async fn a_file_planted_at_the_socket_path_is_never_replaced() {
        let tmp = temp_dir();
        let dir = tmp.path();
        let planted = dir.join("kp.sock");
        std::fs::write(&planted, b"not a socket").unwrap();
        let e = bind(&planted).unwrap_err();
        assert!(e.to_string().contains("not a socket"), "{e}");
        assert_eq!(std::fs::read(&planted).unwrap(), b"not a socket");
        // A stale socket, though, is replaced.
        let stale = dir.join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        drop(bind(&stale).unwrap());
        assert_eq!(mode(&stale), 0o600);
    }
}
