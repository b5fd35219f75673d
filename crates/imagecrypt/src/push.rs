//! Pushing: an image goes to a registry only if every layer is encrypted, through skopeo
//! (which copies encrypted layers as they are), and the registry must have received the
//! manifest that was checked.

use crate::inspect::require_encrypted;
use crate::CryptError;
use ironroot_oci::LayoutRef;
use std::path::{Path, PathBuf};

pub struct PushRequest<'a> {
    pub src: &'a LayoutRef,
    /// `docker://HOST[:PORT]/REPO:TAG`
    pub dest: &'a str,
    pub dest_tls_verify: bool,
    /// Registry credentials file, passed to skopeo.
    pub authfile: Option<&'a Path>,
    /// The skopeo to run (or a script running one); `None`: `skopeo` on `PATH`.
    pub skopeo: Option<&'a Path>,
}

/// Checks, then runs `skopeo copy --preserve-digests` and checks that the registry got
/// the manifest that was checked. Returns that manifest's digest. Run it on a directory
/// that nothing else writes meanwhile.
pub async fn push(req: &PushRequest<'_>) -> Result<String, CryptError> {
    if !req.dest.starts_with("docker://") {
        return Err(ironroot_oci::ImageError::Reference(format!(
            "{:?}: push to a registry, docker://HOST[:PORT]/REPO:TAG",
            req.dest
        ))
        .into());
    }
    let image = require_encrypted(req.src)?;
    let skopeo = find_skopeo(req.skopeo)?;
    let skopeo = skopeo.as_path();
    let src_name = req.src.skopeo_name(image.tag())?;
    // Inside the source directory, so that a skopeo running in a chroot that binds it
    // can write it too.
    let digest_file = std::fs::canonicalize(&req.src.dir)
        .map_err(|e| CryptError::io(req.src.dir.display().to_string(), e))?
        .join(format!(".ironroot-push-{}.digest", std::process::id()));
    let mut cmd = tokio::process::Command::new(skopeo);
    cmd.arg("copy")
        .arg("--preserve-digests")
        .arg(format!("--dest-tls-verify={}", req.dest_tls_verify))
        .arg("--digestfile")
        .arg(&digest_file);
    if let Some(a) = req.authfile {
        cmd.arg("--authfile").arg(a);
    }
    cmd.arg(&src_name).arg(req.dest);
    let status = cmd
        .status()
        .await
        .map_err(|e| CryptError::io(format!("running {}", skopeo.display()), e))?;
    let pushed = std::fs::read_to_string(&digest_file).unwrap_or_default();
    let _ = std::fs::remove_file(&digest_file);
    if !status.success() {
        return Err(CryptError::Push(format!(
            "{} copy {src_name} {} failed ({status})",
            skopeo.display(),
            req.dest
        )));
    }
    let pushed = pushed.trim();
    if pushed != image.top.digest {
        return Err(CryptError::Push(format!(
            "the registry got manifest {pushed:?}, not the checked {}: \
             was {} changed during the push?",
            image.top.digest,
            req.src.dir.display()
        )));
    }
    Ok(image.top.digest)
}

/// The skopeo given, or `skopeo` on `PATH`.
fn find_skopeo(given: Option<&Path>) -> Result<PathBuf, CryptError> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("skopeo"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            // The CLI's variable: the one way a user names another skopeo today.
            CryptError::Push(
                "skopeo is not on PATH: install it, or set IRONROOT_SKOPEO to a skopeo \
                 (or a script running one)"
                    .into(),
            )
        })
}
