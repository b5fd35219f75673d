//! Where an image to scan comes from: an OCI layout, a `docker save` archive, a root
//! filesystem directory, or a registry. Each source feeds its layers, lowest first, to one
//! [`Scan`], with the digest each must have; nothing is unpacked to disk.

mod archive;
mod error;
mod rootfs;

pub use error::SourceError;

use crate::layout::{read_verified_blob, Image, LayoutRef};
use crate::progress::LayerProgress;
use crate::registry::{Registry, LAYER_READ_TIMEOUT};
use ironroot_scanner::{BlobDigest, ImageInfo, Scan};
use oci_client::Reference;
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
    pub fn parse(s: &str) -> Result<Source, SourceError> {
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
            return Err(SourceError::Refused(format!(
                "{s:?}: no such file or directory"
            )));
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

/// Feeds `source`'s layers into `scan` (on a blocking thread: a registry's requests run
/// on `runtime`).
pub fn feed(
    reference: &str,
    source: &Source,
    scan: &mut Scan<'_>,
    progress: &dyn LayerProgress,
    plain_http: bool,
    runtime: &tokio::runtime::Handle,
) -> Result<Fed, SourceError> {
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
            feed_layout(&image, scan, progress)?;
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
            let (fed_info, config) = feed_registry(r, plain_http, scan, progress, runtime)?;
            info = fed_info;
            Some(config)
        }
    };
    Ok(Fed { info, config })
}

fn feed_layout(
    image: &Image,
    scan: &mut Scan<'_>,
    progress: &dyn LayerProgress,
) -> Result<(), SourceError> {
    let n = image.manifest.layers.len();
    for (i, desc) in image.manifest.layers.iter().enumerate() {
        refuse_encrypted(&desc.media_type, &desc.digest)?;
        let expected = layer_digest(i, &desc.digest)?;
        let path = image.blob_path(desc)?;
        let io = |e| SourceError::io(format!("layer {i}: {}", path.display()), e);
        let file = std::fs::File::open(&path).map_err(io)?;
        if file.metadata().map_err(io)?.len() != desc.size {
            return Err(SourceError::Refused(format!(
                "layer {i} ({}): the blob's size differs from its descriptor's {}",
                desc.digest, desc.size
            )));
        }
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        layer(scan, i, n, &expected, reader, progress)?;
    }
    Ok(())
}

/// Manifest, config, then each layer as a stream into the scan, never stored.
fn feed_registry(
    reference_text: &str,
    plain_http: bool,
    scan: &mut Scan<'_>,
    progress: &dyn LayerProgress,
    runtime: &tokio::runtime::Handle,
) -> Result<(ImageInfo, Vec<u8>), SourceError> {
    let reference: Reference = reference_text
        .parse()
        .map_err(|_| crate::registry::RegistryError::Reference(reference_text.to_owned()))?;
    let registry = Registry::connect(&reference, plain_http, LAYER_READ_TIMEOUT)?;
    let pulled = runtime.block_on(registry.image_manifest(&reference))?;
    let manifest = &pulled.manifest;
    let config = runtime.block_on(registry.image_config(&reference, manifest))?;
    let n = manifest.layers.len();
    for (i, desc) in manifest.layers.iter().enumerate() {
        if desc.media_type.ends_with("+encrypted") {
            return Err(SourceError::Refused(format!(
                "layer {} is encrypted ({}); scan the image before encrypting it",
                desc.digest, desc.media_type
            )));
        }
        let expected = layer_digest(i, &desc.digest)?;
        let reader = registry.layer_reader(
            &reference,
            &format!("layer {i}"),
            &desc.digest,
            desc.size,
            runtime,
        )?;
        let reader = std::io::BufReader::with_capacity(1 << 20, reader);
        layer(scan, i, n, &expected, reader, progress)?;
    }
    let info = ImageInfo {
        reference: reference_text.to_owned(),
        source: "registry".into(),
        manifest_digest: Some(pulled.digest),
        config_digest: Some(manifest.config.digest.clone()),
    };
    Ok((info, config))
}

fn layer_digest(i: usize, digest: &str) -> Result<BlobDigest, SourceError> {
    BlobDigest::parse(digest)
        .ok_or_else(|| SourceError::Refused(format!("layer {i}: {digest:?} is not a digest")))
}

/// Scans one layer blob, telling `progress`.
fn layer(
    scan: &mut Scan<'_>,
    i: usize,
    n: usize,
    expected: &BlobDigest,
    reader: impl std::io::Read,
    progress: &dyn LayerProgress,
) -> Result<(), SourceError> {
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
fn refuse_encrypted(media_type: &str, digest: &str) -> Result<(), SourceError> {
    if media_type.ends_with("+encrypted") {
        return Err(SourceError::Refused(format!(
            "layer {digest} is encrypted ({media_type}); scan the image before encrypting it, \
             or decrypt it first (ironroot image decrypt)"
        )));
    }
    Ok(())
}
