//! Reading an image out of an OCI image layout directory (`oci:DIR[:TAG]` or `DIR`), with
//! every document checked against its descriptor's digest and size before it is parsed.

use crate::model::{sha256_hex, Descriptor, Index, Manifest, OCI_INDEX, OCI_MANIFEST};
use crate::ImageError;
use ironroot_crypto::{HashAlg, Hasher};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest index.json, manifest or config accepted (they come from the image: untrusted).
pub const MAX_JSON_LEN: u64 = 4 << 20;

/// An image in an OCI layout: the directory and, optionally, the tag (ref name) in its
/// index.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutRef {
    pub dir: PathBuf,
    pub tag: Option<String>,
}

impl LayoutRef {
    /// `oci:DIR`, `oci:DIR:TAG` (skopeo's syntax: DIR holds no `:`) or a plain `DIR`.
    pub fn parse(s: &str) -> Result<LayoutRef, ImageError> {
        let bad = |why: &str| ImageError::Reference(format!("{s:?}: {why}"));
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, tag) = match rest.split_once(':') {
                Some((d, t)) => (d, Some(t)),
                None => (rest, None),
            };
            if dir.is_empty() {
                return Err(bad("no directory"));
            }
            if tag.is_some_and(str::is_empty) {
                return Err(bad("empty tag after the second ':'"));
            }
            return Ok(LayoutRef {
                dir: dir.into(),
                tag: tag.map(str::to_owned),
            });
        }
        let transport = s.split_once(':').map(|(t, _)| t);
        if s.contains("://")
            || matches!(
                transport,
                Some("docker" | "oci-archive" | "docker-archive" | "containers-storage" | "dir")
            )
        {
            return Err(bad(
                "only OCI layout directories (oci:DIR[:TAG] or DIR) are read and written here; \
                 copy the image into one with skopeo first",
            ));
        }
        if s.is_empty() {
            return Err(bad("no directory"));
        }
        Ok(LayoutRef {
            dir: s.into(),
            tag: None,
        })
    }

    /// How skopeo names the same image (absolute, since skopeo may run elsewhere).
    pub fn skopeo_name(&self, tag: Option<&str>) -> Result<String, ImageError> {
        let dir = std::fs::canonicalize(&self.dir)
            .map_err(|e| ImageError::io(format!("{}", self.dir.display()), e))?;
        let dir = dir.to_string_lossy();
        if dir.contains(':') {
            return Err(ImageError::Reference(format!(
                "{dir}: skopeo cannot name a directory whose path holds ':'"
            )));
        }
        Ok(match tag {
            Some(t) => format!("oci:{dir}:{t}"),
            None => format!("oci:{dir}"),
        })
    }
}

/// One image of a layout, resolved down to its manifest.
#[derive(Debug, Clone)]
pub struct Image {
    pub layout: LayoutRef,
    /// The entry in index.json.
    pub top: Descriptor,
    /// When `top` is an image index (one platform), that index; `top` then names it.
    pub nested: Option<Index>,
    pub manifest_desc: Descriptor,
    pub manifest: Manifest,
}

impl Image {
    pub fn open(layout: &LayoutRef) -> Result<Image, ImageError> {
        let index: Index = read_json_file(&layout.dir.join("index.json"))?;
        let top = select(&index, layout)?;
        let (nested, manifest_desc) = match top.media_type.as_str() {
            OCI_MANIFEST => (None, top.clone()),
            OCI_INDEX => {
                let nested: Index = read_json_blob(&layout.dir, &top)?;
                let [one] = nested.manifests.as_slice() else {
                    return Err(ImageError::Unsupported(format!(
                        "{} is an index of {} images; only an index of one image is supported \
                         (copy one platform out with skopeo copy --override-arch)",
                        top.digest,
                        nested.manifests.len()
                    )));
                };
                let one = one.clone();
                (Some(nested), one)
            }
            other => return Err(unsupported_manifest(other)),
        };
        if manifest_desc.media_type != OCI_MANIFEST {
            return Err(unsupported_manifest(&manifest_desc.media_type));
        }
        let manifest: Manifest = read_json_blob(&layout.dir, &manifest_desc)?;
        if let Some(mt) = manifest
            .media_type
            .as_deref()
            .filter(|m| *m != OCI_MANIFEST)
        {
            return Err(unsupported_manifest(mt));
        }
        Ok(Image {
            layout: layout.clone(),
            top,
            nested,
            manifest_desc,
            manifest,
        })
    }

    /// The tag the image is known by: the one asked for, or its entry's ref name.
    pub fn tag(&self) -> Option<&str> {
        self.layout.tag.as_deref().or(self.top.ref_name())
    }

    pub fn blob_path(&self, desc: &Descriptor) -> Result<PathBuf, ImageError> {
        blob_path(&self.layout.dir, &desc.digest)
    }
}

fn unsupported_manifest(media_type: &str) -> ImageError {
    ImageError::Unsupported(format!(
        "manifest type {media_type:?}: encrypted images need OCI manifests \
         (convert with skopeo copy --format oci)"
    ))
}

/// The entry of index.json the reference names: the tagged one, or the only one.
fn select(index: &Index, layout: &LayoutRef) -> Result<Descriptor, ImageError> {
    let tags: Vec<&str> = index
        .manifests
        .iter()
        .map(|m| m.ref_name().unwrap_or("(untagged)"))
        .collect();
    let found: Vec<&Descriptor> = match &layout.tag {
        Some(t) => index
            .manifests
            .iter()
            .filter(|m| m.ref_name() == Some(t))
            .collect(),
        None => index.manifests.iter().collect(),
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ImageError::Reference(format!(
            "{}: no image {} (it holds: {})",
            layout.dir.display(),
            layout.tag.as_deref().unwrap_or(""),
            tags.join(", ")
        ))),
        _ => Err(ImageError::Reference(format!(
            "{}: {} images match; name one with oci:DIR:TAG (tags: {})",
            layout.dir.display(),
            found.len(),
            tags.join(", ")
        ))),
    }
}

pub fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, ImageError> {
    let hex = sha256_hex(digest).ok_or_else(|| {
        ImageError::Malformed(format!(
            "{digest:?} is not a sha256 digest (the only kind read)"
        ))
    })?;
    Ok(dir.join("blobs").join("sha256").join(hex))
}

fn read_json_file<T: DeserializeOwned>(path: &Path) -> Result<T, ImageError> {
    let what = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| ImageError::io(&what, e))?;
    let mut buf = Vec::new();
    f.take(MAX_JSON_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ImageError::io(&what, e))?;
    if buf.len() as u64 > MAX_JSON_LEN {
        return Err(ImageError::Malformed(format!(
            "{what} is larger than {MAX_JSON_LEN} bytes"
        )));
    }
    serde_json::from_slice(&buf).map_err(|e| ImageError::Malformed(format!("{what}: {e}")))
}

/// Reads a small blob whole, checking its size and digest before parsing it.
pub fn read_verified_blob(dir: &Path, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
    if desc.size > MAX_JSON_LEN {
        return Err(ImageError::Malformed(format!(
            "{} is {} bytes, more than the {MAX_JSON_LEN} allowed for a manifest or config",
            desc.digest, desc.size
        )));
    }
    let path = blob_path(dir, &desc.digest)?;
    let what = path.display().to_string();
    let mut buf = Vec::new();
    std::fs::File::open(&path)
        .map_err(|e| ImageError::io(&what, e))?
        .take(MAX_JSON_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ImageError::io(&what, e))?;
    let mut h = Hasher::new(HashAlg::Sha256);
    h.update(&buf);
    let digest = format!("sha256:{}", hex::encode(h.finish()));
    if digest != desc.digest || buf.len() as u64 != desc.size {
        return Err(ImageError::DigestMismatch {
            what: format!("blob {}", desc.digest),
            found: format!("{digest}, {} bytes", buf.len()),
        });
    }
    Ok(buf)
}

fn read_json_blob<T: DeserializeOwned>(dir: &Path, desc: &Descriptor) -> Result<T, ImageError> {
    let buf = read_verified_blob(dir, desc)?;
    serde_json::from_slice(&buf).map_err(|e| ImageError::Malformed(format!("{}: {e}", desc.digest)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn references_parse_like_skopeo() {
        let r = LayoutRef::parse("oci:/tmp/x:v1").unwrap();
        assert_eq!((r.dir, r.tag), (PathBuf::from("/tmp/x"), Some("v1".into())));
        let r = LayoutRef::parse("oci:/tmp/x").unwrap();
        assert_eq!(r.tag, None);
        let r = LayoutRef::parse("build/out").unwrap();
        assert_eq!((r.dir, r.tag), (PathBuf::from("build/out"), None));
        for bad in [
            "oci:",
            "oci:/x:",
            "docker://r/x:1",
            "oci-archive:/x.tar",
            "",
        ] {
            assert!(LayoutRef::parse(bad).is_err(), "{bad}");
        }
    }
}
