//! Which files of an image the checks need, decided per tar entry while the scanner streams.

/// The most bytes of one file the checks read; a bigger config file is a sign of abuse (the
/// real ones are a few KiB), so the scanner keeps only its metadata and the check reports it.
pub const MAX_CONTENT_BYTES: u64 = 1024 * 1024;

/// What the scanner must keep of a file for [`crate::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Not needed.
    Skip,
    /// Path, layer, mode and owner, without the bytes.
    Metadata,
    /// Everything, bytes included (never more than [`MAX_CONTENT_BYTES`]).
    Content,
}

/// Files whose bytes are read: accounts, password policy, sshd configuration.
const CONTENT_FILES: &[&str] = &[
    "etc/shadow",
    "etc/passwd",
    "etc/login.defs",
    "etc/pam.d/common-password",
    "etc/pam.d/system-auth",
    "etc/pam.d/password-auth",
    "etc/security/pwquality.conf",
    "etc/ssh/sshd_config",
];

/// Directories whose files are read too (sshd's drop-ins, pwquality's).
const CONTENT_DIRS: &[&str] = &["etc/ssh/sshd_config.d/", "etc/security/pwquality.conf.d/"];

/// SSH server binaries: their presence is the finding.
pub(crate) const SSH_BINARIES: &[&str] = &[
    "usr/sbin/sshd",
    "sbin/sshd",
    "usr/sbin/dropbear",
    "sbin/dropbear",
];

/// Where init systems record that a service starts at boot. Matched as prefix + service
/// name: systemd's `*.wants/` directories, SysV `rcN.d/S??name` links, OpenRC runlevels.
pub(crate) const SSH_SERVICES: &[&str] = &["ssh", "sshd", "dropbear"];

/// Which part of the image the checks need of the file at `path` (relative, no leading
/// `/`), given its tar mode and size. Call it for regular files and symlinks, not for
/// directories (a setgid directory such as `var/mail` is not a setuid binary).
pub fn wanted(path: &str, mode: u32, size: u64) -> Want {
    if is_content_path(path) {
        // Too big to be a real config file: the metadata lets the check say so.
        return if size <= MAX_CONTENT_BYTES {
            Want::Content
        } else {
            Want::Metadata
        };
    }
    if mode & 0o6000 != 0 || SSH_BINARIES.contains(&path) || ssh_enablement(path).is_some() {
        return Want::Metadata;
    }
    Want::Skip
}

fn is_content_path(path: &str) -> bool {
    CONTENT_FILES.contains(&path)
        || CONTENT_DIRS.iter().any(|d| {
            path.strip_prefix(d)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        })
}

/// The service an init-system link at `path` enables at boot, if it is an SSH server's.
pub(crate) fn ssh_enablement(path: &str) -> Option<&'static str> {
    let (dir, name) = path.rsplit_once('/')?;
    let systemd = (dir.starts_with("etc/systemd/system/")
        || dir.starts_with("usr/lib/systemd/system/"))
        && dir.ends_with(".wants");
    let service = if systemd {
        name.strip_suffix(".service")
            .or_else(|| name.strip_suffix(".socket"))?
    } else if is_sysv_rc_dir(dir) {
        // `S01ssh`: S, two digits, the script's name.
        name.strip_prefix('S')
            .filter(|r| r.len() > 2 && r.as_bytes()[..2].iter().all(u8::is_ascii_digit))
            .map(|r| &r[2..])?
    } else if dir.starts_with("etc/runlevels/") {
        name
    } else {
        return None;
    };
    SSH_SERVICES.iter().copied().find(|s| *s == service)
}

fn is_sysv_rc_dir(dir: &str) -> bool {
    let dir = dir.strip_prefix("etc/rc.d/").unwrap_or(dir);
    let dir = dir.strip_prefix("etc/").unwrap_or(dir);
    matches!(dir.as_bytes(), [b'r', b'c', level, b'.', b'd'] if level.is_ascii_digit() || *level == b'S')
}
