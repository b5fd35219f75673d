//! An image's manifest and config, as the scanner reads them: the manifest checked against
//! the digest in the reference (or, by tag, against the registry's own digest header), one
//! platform (linux/amd64) picked from an index, the config fetched through the limits.

use super::limits::{sha256, MAX_DOCUMENT};
use super::{Registry, RegistryError};
use crate::model::{Index, Manifest, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;

const ACCEPT: [&str; 4] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// An image manifest and the digest it was checked against.
#[derive(Debug, Clone)]
pub struct PulledManifest {
    pub manifest: Manifest,
    pub digest: String,
}

fn check(what: &str, expected: &str, data: &[u8]) -> Result<(), RegistryError> {
    let mut c = super::limits::BlobCheck::start(what, expected, 0, MAX_DOCUMENT)?;
    c.update(data)?;
    c.finish()
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, raw: &[u8]) -> Result<T, RegistryError> {
    serde_json::from_slice(raw).map_err(|e| RegistryError::Malformed {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

impl Registry {
    /// The manifest of `reference` (one platform: linux/amd64 from an index), digest-checked.
    pub async fn image_manifest(
        &self,
        reference: &Reference,
    ) -> Result<PulledManifest, RegistryError> {
        let (raw, header) = self
            .client
            .pull_manifest_raw(reference, &self.auth, &ACCEPT)
            .await
            .map_err(|e| RegistryError::request(self.manifest_what(reference), e))?;
        if raw.len() as u64 > MAX_DOCUMENT {
            return Err(RegistryError::TooLarge {
                what: "the manifest".into(),
                size: raw.len() as u64,
                max: MAX_DOCUMENT,
            });
        }
        let digest = match reference.digest() {
            Some(pinned) => {
                check("the manifest", pinned, &raw)?;
                pinned.to_owned()
            }
            // By tag: the registry's Docker-Content-Digest, when sent, must be the content's.
            None => {
                let computed = sha256(&raw);
                if !header.is_empty() && header.starts_with("sha256:") && header != computed {
                    return Err(RegistryError::Refused(format!(
                        "the registry says the manifest is {header}, but its content is {computed}; refused"
                    )));
                }
                computed
            }
        };
        let kind: serde_json::Value = parse("the manifest", &raw)?;
        let media = kind
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or(OCI_MANIFEST);
        if media == OCI_INDEX || media == DOCKER_LIST || kind.get("manifests").is_some() {
            let index: Index = parse("the image index", &raw)?;
            let pick = index
                .manifests
                .iter()
                .find(|d| d.platform() == Some(("linux", "amd64")))
                .ok_or_else(|| {
                    RegistryError::Refused("the index has no linux/amd64 image".into())
                })?;
            let one = reference.clone_with_digest(pick.digest.clone());
            let (raw, _) = self
                .client
                .pull_manifest_raw(&one, &self.auth, &ACCEPT)
                .await
                .map_err(|e| {
                    RegistryError::request(
                        format!("{}: the linux/amd64 manifest", reference.whole()),
                        e,
                    )
                })?;
            if raw.len() as u64 > MAX_DOCUMENT {
                return Err(RegistryError::TooLarge {
                    what: "the linux/amd64 manifest".into(),
                    size: raw.len() as u64,
                    max: MAX_DOCUMENT,
                });
            }
            check("the linux/amd64 manifest", &pick.digest, &raw)?;
            return Ok(PulledManifest {
                manifest: parse("the image manifest", &raw)?,
                digest: pick.digest.clone(),
            });
        }
        Ok(PulledManifest {
            manifest: parse("the image manifest", &raw)?,
            digest,
        })
    }

    /// The image config, digest-checked, at most [`MAX_DOCUMENT`] bytes.
    pub async fn image_config(
        &self,
        reference: &Reference,
        manifest: &Manifest,
    ) -> Result<Vec<u8>, RegistryError> {
        let c = &manifest.config;
        self.fetch_blob(
            reference,
            "the image config",
            &c.digest,
            c.size,
            MAX_DOCUMENT,
        )
        .await
    }

    /// How a failed manifest pull is named: with a hint to log in when it was anonymous.
    fn manifest_what(&self, reference: &Reference) -> String {
        match self.auth {
            RegistryAuth::Anonymous => format!(
                "{}: the manifest (no credentials were found for {}: if it needs them, log in \
                 with `podman login` or `skopeo login`, or set REGISTRY_AUTH_FILE)",
                reference.whole(),
                reference.registry()
            ),
            _ => format!("{}: the manifest", reference.whole()),
        }
    }
}
