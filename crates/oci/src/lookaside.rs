//! containers/image "lookaside" signature storage (containers-registries.d(5),
//! `lookaside:` / `lookaside-staging:`): signature N of manifest `sha256:<hex>` in
//! repository `REPO` (its path in the registry, without the registry's host) is the file
//! `BASE/REPO@sha256=<hex>/signature-N`, N from 1, read in order until the first missing
//! one. Each file is one OpenPGP-signed simple-signing payload.
//!
//! Readers take a directory, a `file://` URL or an `http(s)://` URL; writers only the first
//! two, as with containers/image (web servers are filled from a staging directory).

use ironroot_signing::PinnedImage;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Signature files are a few hundred bytes; anything this big is not one.
const MAX_SIGNATURE_FILE: u64 = 64 * 1024;
/// containers/image has no limit; a bound keeps a hostile server from feeding us forever.
const MAX_SIGNATURES: usize = 64;

/// Lookaside storage could not be named, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookasideError {
    #[error("{0}")]
    Location(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Http {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{0}")]
    Refused(String),
}

pub enum Lookaside {
    Dir(PathBuf),
    Http(String),
}

pub struct FoundSignature {
    /// Where it was read from, for reports.
    pub location: String,
    pub bytes: Result<Vec<u8>, String>,
}

impl Lookaside {
    pub fn parse(text: &str) -> Result<Lookaside, LookasideError> {
        let bad = |why: &str| Err(LookasideError::Location(format!("{text:?}: {why}")));
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                return bad("a file:// lookaside URL needs an absolute path");
            }
            return Ok(Lookaside::Dir(PathBuf::from(path)));
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Lookaside::Http(text.trim_end_matches('/').to_owned()));
        }
        if text.contains("://") {
            return bad("lookaside storage must be a directory, file://, http:// or https://");
        }
        Ok(Lookaside::Dir(PathBuf::from(text)))
    }

    fn relative(image: &PinnedImage, n: usize) -> String {
        let (alg, hex) = image
            .digest
            .as_str()
            .split_once(':')
            .unwrap_or(("sha256", image.digest.as_str()));
        format!("{}@{alg}={hex}/signature-{n}", image.repository())
    }

    /// Every signature stored for the image, in order; empty when there is none.
    pub async fn read_all(
        &self,
        image: &PinnedImage,
    ) -> Result<Vec<FoundSignature>, LookasideError> {
        let mut found = Vec::new();
        let http = match self {
            Lookaside::Http(_) => Some(http_client()?),
            Lookaside::Dir(_) => None,
        };
        for n in 1..=MAX_SIGNATURES {
            let rel = Self::relative(image, n);
            let next = match (self, &http) {
                (Lookaside::Dir(base), _) => read_file(base.join(&rel)),
                (Lookaside::Http(base), Some(client)) => {
                    read_http(client, &format!("{base}/{rel}")).await?
                }
                (Lookaside::Http(_), None) => None,
            };
            let Some(sig) = next else { break };
            found.push(sig);
        }
        Ok(found)
    }

    /// Stores `signature` as the next free `signature-N`, leaving existing ones alone.
    pub fn write_next(
        &self,
        image: &PinnedImage,
        signature: &[u8],
    ) -> Result<PathBuf, LookasideError> {
        let Lookaside::Dir(base) = self else {
            return Err(LookasideError::Refused("ironroot writes signatures only to a directory (or file:// URL); copy them to the web server from there".into()));
        };
        for n in 1..=MAX_SIGNATURES {
            let path = base.join(Self::relative(image, n));
            if path.exists() {
                continue;
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| io(format!("creating {}", dir.display()), e))?;
            }
            write_new(&path, signature)?;
            return Ok(path);
        }
        Err(LookasideError::Refused(format!(
            "{MAX_SIGNATURES} signatures are already stored for this image"
        )))
    }
}

fn io(what: String, source: std::io::Error) -> LookasideError {
    LookasideError::Io { what, source }
}

/// Creates `path` readable by all (web servers serve it), never replacing a file.
fn write_new(path: &Path, contents: &[u8]) -> Result<(), LookasideError> {
    const MODE: u32 = 0o644;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(path)
        .map_err(|e| {
            io(
                format!(
                    "creating {} (an existing file is never replaced)",
                    path.display()
                ),
                e,
            )
        })?;
    // The umask may have narrowed the mode.
    f.set_permissions(std::fs::Permissions::from_mode(MODE))
        .and_then(|()| f.write_all(contents))
        .and_then(|()| f.sync_all())
        .map_err(|e| io(format!("writing {}", path.display()), e))
}

fn read_file(path: PathBuf) -> Option<FoundSignature> {
    let location = path.display().to_string();
    let meta = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(FoundSignature {
                location,
                bytes: Err(e.to_string()),
            })
        }
        Ok(m) => m,
    };
    let bytes = if meta.len() > MAX_SIGNATURE_FILE {
        Err(format!(
            "{} bytes, more than the {MAX_SIGNATURE_FILE} allowed",
            meta.len()
        ))
    } else {
        read_at_most(&path, MAX_SIGNATURE_FILE)
    };
    Some(FoundSignature { location, bytes })
}

/// The file, unless it holds more than `max` bytes (it may have grown since its size was
/// looked at): never more than `max + 1` bytes are read.
fn read_at_most(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut buf))
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > max {
        return Err(format!("more than the {max} bytes allowed"));
    }
    Ok(buf)
}

fn http_client() -> Result<reqwest::Client, LookasideError> {
    ironroot_tls::install_process_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(3));
    if let Ok(pem) = std::fs::read(ironroot_tls::system_bundle_path()) {
        for cert in reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default() {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| LookasideError::Http {
        what: "the HTTP client for lookaside storage".into(),
        source: e,
    })
}

/// `None` on 404 (the end of the list, as containers/image reads it); any other failure
/// stops verification, because a signature we could not read might have been the good one.
async fn read_http(
    client: &reqwest::Client,
    url: &str,
) -> Result<Option<FoundSignature>, LookasideError> {
    let http = |what: String| move |source| LookasideError::Http { what, source };
    let mut res = client
        .get(url)
        .send()
        .await
        .map_err(http(format!("fetching {url}")))?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !res.status().is_success() {
        return Err(LookasideError::Refused(format!(
            "fetching {url}: HTTP {}",
            res.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(http(format!("reading {url}")))? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_SIGNATURE_FILE {
            return Ok(Some(FoundSignature {
                location: url.to_owned(),
                bytes: Err(format!("more than the {MAX_SIGNATURE_FILE} bytes allowed")),
            }));
        }
    }
    Ok(Some(FoundSignature {
        location: url.to_owned(),
        bytes: Ok(body),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn locations_parse_as_containers_image_names_them() {
        assert!(matches!(
            Lookaside::parse("/srv/sigstore").unwrap(),
            Lookaside::Dir(_)
        ));
        assert!(matches!(
            Lookaside::parse("file:///srv/s").unwrap(),
            Lookaside::Dir(_)
        ));
        assert!(matches!(
            Lookaside::parse("https://sigs.example/s/").unwrap(),
            Lookaside::Http(u) if u == "https://sigs.example/s"
        ));
        for bad in ["file://relative", "ftp://x/y"] {
            assert!(Lookaside::parse(bad).is_err(), "{bad}");
        }
        assert!(Lookaside::parse("http://x")
            .unwrap()
            .write_next(&PinnedImage::parse(&format!("r/app@{D}")).unwrap(), b"s")
            .is_err());
    }

    #[tokio::test]
    async fn signatures_are_written_next_and_read_in_order_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Lookaside::Dir(dir.path().to_path_buf());
        let image = PinnedImage::parse(&format!("127.0.0.1:5000/team/app@{D}")).unwrap();
        let first = store.write_next(&image, b"one").unwrap();
        assert!(first.ends_with(format!("team/app@sha256={}/signature-1", &D[7..])));
        store.write_next(&image, b"two").unwrap();
        std::fs::write(
            first.with_file_name("signature-3"),
            vec![0u8; MAX_SIGNATURE_FILE as usize + 1],
        )
        .unwrap();
        let found = store.read_all(&image).await.unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].bytes.as_deref().unwrap(), b"one");
        assert_eq!(found[1].bytes.as_deref().unwrap(), b"two");
        assert!(found[2].bytes.as_ref().unwrap_err().contains("allowed"));
    }
}
