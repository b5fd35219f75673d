//! The pipeline step: `check` says whether every layer is encrypted, and `push` pushes an
//! image only if so, through skopeo (which copies encrypted layers as they are).

use super::inspect::layer_report;
use super::layout::{Image, LayoutRef};
use super::{layer_label, ImageError};
use std::path::{Path, PathBuf};

/// The layers that are not usable encrypted layers, with why.
pub fn plaintext_layers(image: &Image) -> Vec<String> {
    let n = image.manifest.layers.len();
    if n == 0 {
        return vec!["the image has no layers".into()];
    }
    image
        .manifest
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, desc)| {
            let r = layer_report(desc);
            (!r.encrypted).then(|| {
                let why = r.problem.unwrap_or_else(|| desc.media_type.clone());
                format!("{} {why}", layer_label(i, n, desc))
            })
        })
        .collect()
}

/// Opens the image and refuses it unless every layer is encrypted.
pub fn require_encrypted(src: &LayoutRef) -> Result<Image, ImageError> {
    let image = Image::open(src)?;
    let plain = plaintext_layers(&image);
    if !plain.is_empty() {
        return Err(ImageError::NotEncrypted(plain));
    }
    Ok(image)
}

pub struct PushRequest<'a> {
    pub src: &'a LayoutRef,
    pub dest: &'a str,
    pub dest_tls_verify: bool,
    pub authfile: Option<&'a Path>,
}

/// Checks, then runs `skopeo copy --preserve-digests` and checks that the registry got
/// the manifest that was checked. Returns that manifest's digest.
pub async fn push(req: &PushRequest<'_>) -> Result<String, ImageError> {
    if !req.dest.starts_with("docker://") {
        return Err(ImageError::Reference(format!(
            "{:?}: push to a registry, docker://HOST[:PORT]/REPO:TAG",
            req.dest
        )));
    }
    let image = require_encrypted(req.src)?;
    let skopeo = find_skopeo()?;
    let src_name = req.src.skopeo_name(image.tag())?;
    // Inside the source directory, so that a skopeo running in a chroot that binds it
    // can write it too.
    let digest_file = std::fs::canonicalize(&req.src.dir)
        .map_err(|e| ImageError::io(req.src.dir.display().to_string(), e))?
        .join(format!(".ironroot-push-{}.digest", std::process::id()));
    let mut cmd = tokio::process::Command::new(&skopeo);
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
        .map_err(|e| ImageError::io(format!("running {}", skopeo.display()), e))?;
    let pushed = std::fs::read_to_string(&digest_file).unwrap_or_default();
    let _ = std::fs::remove_file(&digest_file);
    if !status.success() {
        return Err(ImageError::Push(format!(
            "{} copy {src_name} {} failed ({status})",
            skopeo.display(),
            req.dest
        )));
    }
    let pushed = pushed.trim();
    if pushed != image.top.digest {
        return Err(ImageError::Push(format!(
            "the registry got manifest {pushed:?}, not the checked {}: \
             was {} changed during the push?",
            image.top.digest,
            req.src.dir.display()
        )));
    }
    Ok(image.top.digest)
}

/// `$IRONROOT_SKOPEO`, or `skopeo` on `PATH`.
fn find_skopeo() -> Result<PathBuf, ImageError> {
    if let Some(p) = std::env::var_os("IRONROOT_SKOPEO").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("skopeo"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ImageError::Push(
                "skopeo is not on PATH: install it, or set IRONROOT_SKOPEO to a skopeo \
                 (or a script running one)"
                    .into(),
            )
        })
}
