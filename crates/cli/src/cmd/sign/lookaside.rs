//! containers/image "lookaside" signature storage (containers-registries.d(5),
//! `lookaside:` / `lookaside-staging:`): signature N of manifest `sha256:<hex>` in
//! repository `REPO` (its path in the registry, without the registry's host) is the file
//! `BASE/REPO@sha256=<hex>/signature-N`, N from 1, read in order until the first missing
//! one. Each file is one OpenPGP-signed simple-signing payload.
//!
//! Readers take a directory, a `file://` URL or an `http(s)://` URL; writers only the first
//! two, as with containers/image (web servers are filled from a staging directory).

use super::identity::PinnedImage;
use anyhow::{bail, Context};
use std::path::PathBuf;

/// Signature files are a few hundred bytes; anything this big is not one.
const MAX_SIGNATURE_FILE: u64 = 64 * 1024;
/// containers/image has no limit; a bound keeps a hostile server from feeding us forever.
const MAX_SIGNATURES: usize = 64;

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
    pub fn parse(text: &str) -> anyhow::Result<Lookaside> {
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                bail!("{text:?}: a file:// lookaside URL needs an absolute path");
            }
            return Ok(Lookaside::Dir(PathBuf::from(path)));
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Lookaside::Http(text.trim_end_matches('/').to_owned()));
        }
        if text.contains("://") {
            bail!("{text:?}: lookaside storage must be a directory, file://, http:// or https://");
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
    pub async fn read_all(&self, image: &PinnedImage) -> anyhow::Result<Vec<FoundSignature>> {
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
    pub fn write_next(&self, image: &PinnedImage, signature: &[u8]) -> anyhow::Result<PathBuf> {
        let Lookaside::Dir(base) = self else {
            bail!("ironroot writes signatures only to a directory (or file:// URL); copy them to the web server from there");
        };
        for n in 1..=MAX_SIGNATURES {
            let path = base.join(Self::relative(image, n));
            if path.exists() {
                continue;
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            super::keys::write_new(&path, signature, 0o644)?;
            return Ok(path);
        }
        bail!("{MAX_SIGNATURES} signatures are already stored for this image")
    }
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
        std::fs::read(&path).map_err(|e| e.to_string())
    };
    Some(FoundSignature { location, bytes })
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(3));
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    if let Ok(pem) = std::fs::read(&bundle) {
        for cert in reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default() {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .context("the HTTP client for lookaside storage")
}

/// `None` on 404 (the end of the list, as containers/image reads it); any other failure
/// stops verification, because a signature we could not read might have been the good one.
async fn read_http(client: &reqwest::Client, url: &str) -> anyhow::Result<Option<FoundSignature>> {
    let mut res = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !res.status().is_success() {
        bail!("fetching {url}: HTTP {}", res.status());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .with_context(|| format!("reading {url}"))?
    {
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
