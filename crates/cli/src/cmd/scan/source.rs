//! Where an image comes from: an OCI layout, a `docker save` archive, a root filesystem
//! directory, or a registry. Each source feeds its layers, lowest first, to one [`Scan`],
//! with the digest each must have; nothing is unpacked to disk.

use super::archive;
use super::rootfs;
use crate::cmd::image::layout::{read_verified_blob, Image, LayoutRef};
use crate::cmd::image::progress::Progress;
use anyhow::{bail, Context};
use ironroot_scanner::{BlobDigest, ImageInfo, Scan};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// An image reference, resolved to a kind of source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Layout(LayoutRef),
    Archive(PathBuf),
    Rootfs(PathBuf),
    Registry(String),
}

impl Source {
    /// `oci:DIR[:TAG]`, `docker-archive:FILE`, `dir:PATH`, `docker://REF`, or a bare
    /// argument: a directory with an `oci-layout` file is a layout, another directory a
    /// root filesystem, a file an archive, and anything else a registry reference.
    pub fn parse(s: &str) -> anyhow::Result<Source> {
        if s.starts_with("oci:") {
            return Ok(Source::Layout(LayoutRef::parse(s)?));
        }
        if let Some(f) = s.strip_prefix("docker-archive:") {
            return Ok(Source::Archive(f.into()));
        }
        if let Some(d) = s.strip_prefix("dir:") {
            return Ok(Source::Rootfs(d.into()));
        }
        if let Some(r) = s.strip_prefix("docker://") {
            return Ok(Source::Registry(r.to_owned()));
        }
        let p = Path::new(s);
        if p.is_dir() {
            if p.join("oci-layout").is_file() {
                return Ok(Source::Layout(LayoutRef::parse(s)?));
            }
            return Ok(Source::Rootfs(p.into()));
        }
        if p.is_file() {
            return Ok(Source::Archive(p.into()));
        }
        if s.is_empty() || s.starts_with('/') || s.starts_with('.') {
            bail!("{s:?}: no such file or directory");
        }
        Ok(Source::Registry(s.to_owned()))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Source::Layout(_) => "oci-layout",
            Source::Archive(_) => "docker-archive",
            Source::Rootfs(_) => "rootfs",
            Source::Registry(_) => "registry",
        }
    }
}

/// What a source yields besides its layers.
pub struct Fed {
    pub info: ImageInfo,
    /// The image config JSON (digest-checked), when the source has one.
    pub config: Option<Vec<u8>>,
}

/// Feeds `source`'s layers into `scan`.
pub fn feed(
    reference: &str,
    source: &Source,
    scan: &mut Scan<'_>,
    progress: Progress,
    plain_http: bool,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<Fed> {
    let mut info = ImageInfo {
        reference: reference.to_owned(),
        source: source.kind().to_owned(),
        manifest_digest: None,
        config_digest: None,
    };
    let config = match source {
        Source::Layout(layout) => {
            let image = Image::open(layout)?;
            info.manifest_digest = Some(image.manifest_desc.digest.clone());
            info.config_digest = Some(image.manifest.config.digest.clone());
            let config = read_verified_blob(&layout.dir, &image.manifest.config)?;
            let n = image.manifest.layers.len();
            for (i, desc) in image.manifest.layers.iter().enumerate() {
                refuse_encrypted(&desc.media_type, &desc.digest)?;
                let expected = BlobDigest::parse(&desc.digest)
                    .with_context(|| format!("layer {i}: {:?} is not a digest", desc.digest))?;
                let path = image.blob_path(desc)?;
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("layer {i}: {}", path.display()))?;
                if file.metadata()?.len() != desc.size {
                    bail!(
                        "layer {i} ({}): the blob's size differs from its descriptor's {}",
                        desc.digest,
                        desc.size
                    );
                }
                layer(
                    scan,
                    i,
                    n,
                    &expected,
                    std::io::BufReader::with_capacity(1 << 20, file),
                    progress,
                )?;
            }
            Some(config)
        }
        Source::Archive(path) => {
            let fed = archive::feed(path, scan, progress)?;
            info.config_digest = Some(fed.config_digest);
            Some(fed.config)
        }
        Source::Rootfs(dir) => {
            rootfs::feed(dir, scan)?;
            None
        }
        Source::Registry(r) => {
            let fed = super::registry::feed(r, plain_http, scan, progress, runtime)?;
            info = fed.info;
            Some(fed.config)
        }
    };
    Ok(Fed { info, config })
}

/// Scans one layer blob, with a line on a terminal.
pub fn layer(
    scan: &mut Scan<'_>,
    i: usize,
    n: usize,
    expected: &BlobDigest,
    reader: impl std::io::Read,
    progress: Progress,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let summary = scan.layer(Some(expected), reader)?;
    let label = format!("layer {}/{n} ({})", i + 1, short(&summary.digest));
    progress.layer(&label, "scanned", summary.bytes, t.elapsed());
    Ok(())
}

fn short(d: &str) -> &str {
    &d[..d.len().min(19)]
}

/// Encrypted layers cannot be scanned; saying so beats reporting an empty image.
fn refuse_encrypted(media_type: &str, digest: &str) -> anyhow::Result<()> {
    if media_type.ends_with("+encrypted") {
        bail!(
            "layer {digest} is encrypted ({media_type}); scan the image before encrypting it, \
             or decrypt it first (ironroot image decrypt)"
        );
    }
    Ok(())
}
