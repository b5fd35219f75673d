//! cosign signatures in a registry: the `sha256-<hex>.sig` tag in the image's repository
//! holds an OCI manifest whose layers are simple-signing payloads (media type
//! `application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 signature in
//! the `dev.cosignproject.cosign/signature` annotation. Its config is an otherwise empty
//! image config listing those layers as `rootfs.diff_ids`, as cosign and containers/image
//! write it. Signing appends a layer, as both of them do.
//!
//! Attestations live the same way under `sha256-<hex>.att`: each layer is a DSSE envelope
//! (`application/vnd.dsse.envelope.v1+json`) annotated with its statement's
//! `predicateType`, as `cosign attest` writes; [`Attachment`] says which tag is meant.
//!
//! Everything read here is untrusted: every blob streams through its size limit and its
//! digest check; whether a signature is good is decided by the caller.

use super::error::error_chain;
use super::limits::{sha256, MAX_ATTACHMENT_LAYERS, MAX_DOCUMENT};
use super::{Registry, RegistryError};
use crate::model::{DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use ironroot_signing::cosign::{PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION};
use ironroot_signing::dsse::{ENVELOPE_MEDIA_TYPE, MAX_ENVELOPE_LEN, PREDICATE_TYPE_ANNOTATION};
use ironroot_signing::PinnedImage;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::Reference;
use serde_json::{json, Value};

const MAX_PAYLOAD: u64 = ironroot_signing::payload::MAX_PAYLOAD_LEN as u64;

/// The cosign attachment tags next to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// `sha256-<hex>.sig`: simple-signing payloads, signature in an annotation.
    Signatures,
    /// `sha256-<hex>.att`: DSSE envelopes, the signature inside the layer.
    Attestations,
}

impl Attachment {
    fn layer_media_type(self) -> &'static str {
        match self {
            Attachment::Signatures => PAYLOAD_MEDIA_TYPE,
            Attachment::Attestations => ENVELOPE_MEDIA_TYPE,
        }
    }

    /// The largest layer read: a payload or an envelope is refused above it.
    pub fn max_layer(self) -> u64 {
        match self {
            Attachment::Signatures => MAX_PAYLOAD,
            Attachment::Attestations => MAX_ENVELOPE_LEN as u64,
        }
    }

    /// The tag: `sha256-<hex>.sig` or `sha256-<hex>.att`.
    pub fn tag(self, image: &PinnedImage) -> String {
        match self {
            Attachment::Signatures => image.cosign_signature_tag(),
            Attachment::Attestations => image.cosign_attestation_tag(),
        }
    }

    fn reference(self, image: &PinnedImage) -> Reference {
        Reference::with_tag(
            image.reference.registry().to_owned(),
            image.reference.repository().to_owned(),
            self.tag(image),
        )
    }
}

/// One layer of the `.sig` manifest, as found (nothing about it is verified yet).
pub struct FoundSignature {
    pub index: usize,
    pub media_type: String,
    pub payload: Result<Vec<u8>, String>,
    pub signature_b64: Option<String>,
}

/// One layer of an attachment manifest, as found (nothing about it is verified yet).
pub struct FoundLayer {
    pub index: usize,
    pub media_type: String,
    /// The blob, or why it was not fetched (wrong media type, too large, bad digest).
    pub blob: Result<Vec<u8>, String>,
    pub annotations: serde_json::Map<String, Value>,
}

impl Registry {
    /// Confirms that the registry holds exactly the pinned manifest, so that nobody signs
    /// a digest that was mistyped or belongs to another repository.
    pub async fn check_image(&self, image: &PinnedImage) -> Result<(), RegistryError> {
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
        let (raw, _) = self
            .client
            .pull_manifest_raw(&image.reference, &self.auth, &accept)
            .await
            .map_err(|e| {
                RegistryError::request(
                    format!("{}: the image manifest", image.reference.whole()),
                    e,
                )
            })?;
        if raw.len() as u64 > MAX_DOCUMENT || sha256(&raw) != image.digest.as_str() {
            return Err(RegistryError::Refused(format!(
                "the registry's manifest for {} does not have digest {}; refusing to sign",
                image.name, image.digest
            )));
        }
        Ok(())
    }

    /// The `.sig` or `.att` manifest, or `None` when the tag does not exist.
    async fn attachment_manifest(&self, r: &Reference) -> Result<Option<Value>, RegistryError> {
        match self
            .client
            .pull_manifest_raw(r, &self.auth, &[OCI_MANIFEST, DOCKER_MANIFEST])
            .await
        {
            Ok((raw, _)) => {
                if raw.len() as u64 > MAX_DOCUMENT {
                    return Err(RegistryError::Refused(format!(
                        "{}: the manifest is too large",
                        r.whole()
                    )));
                }
                let v = serde_json::from_slice(&raw).map_err(|e| RegistryError::Malformed {
                    what: format!("{}: the manifest is not JSON", r.whole()),
                    reason: e.to_string(),
                })?;
                Ok(Some(v))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(RegistryError::request(
                format!("{}: the attachment manifest", r.whole()),
                e,
            )),
        }
    }

    /// Every layer of the image's `.sig` manifest; empty when there is none.
    pub async fn signatures(
        &self,
        image: &PinnedImage,
    ) -> Result<Vec<FoundSignature>, RegistryError> {
        let layers = self.layers(image, Attachment::Signatures).await?;
        Ok(layers
            .into_iter()
            .map(|l| FoundSignature {
                index: l.index,
                signature_b64: l
                    .annotations
                    .get(SIGNATURE_ANNOTATION)
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                media_type: l.media_type,
                payload: l.blob,
            })
            .collect())
    }

    /// Every layer of one of the image's attachment manifests; empty when there is none.
    /// Blobs of another media type than the attachment's are not fetched.
    pub async fn layers(
        &self,
        image: &PinnedImage,
        kind: Attachment,
    ) -> Result<Vec<FoundLayer>, RegistryError> {
        let r = kind.reference(image);
        let Some(manifest) = self.attachment_manifest(&r).await? else {
            return Ok(Vec::new());
        };
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        let mut found = Vec::new();
        for (index, layer) in layers.iter().take(MAX_ATTACHMENT_LAYERS).enumerate() {
            let media_type = layer["mediaType"].as_str().unwrap_or_default().to_owned();
            let annotations = layer["annotations"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let blob = match (layer["digest"].as_str(), layer["size"].as_u64()) {
                _ if media_type != kind.layer_media_type() => Err(match kind {
                    Attachment::Signatures => format!("not a signature layer ({media_type})"),
                    Attachment::Attestations => format!("not a DSSE envelope ({media_type})"),
                }),
                (Some(d), Some(size)) if d.starts_with("sha256:") => self
                    .fetch_blob(&r, &format!("blob {d}"), d, size, kind.max_layer())
                    .await
                    .map_err(|e| error_chain(&e)),
                _ => Err("the layer descriptor has no sha256 digest or size".into()),
            };
            found.push(FoundLayer {
                index,
                media_type,
                blob,
                annotations,
            });
        }
        Ok(found)
    }

    /// Adds one signature layer to the image's `.sig` manifest (creating it if needed).
    /// An identical layer already there is left alone, as containers/image does.
    pub async fn push_signature(
        &self,
        image: &PinnedImage,
        payload: &[u8],
        signature_b64: &str,
    ) -> Result<String, RegistryError> {
        let annotations = json!({SIGNATURE_ANNOTATION: signature_b64});
        self.push_layer(image, Attachment::Signatures, payload, annotations)
            .await
    }

    /// Adds a DSSE envelope to the image's `.att` manifest, as `cosign attest` does: the
    /// statement's predicate type in an annotation, and an empty signature annotation
    /// (cosign's attestation layers carry one; the signature is inside the envelope).
    pub async fn push_attestation(
        &self,
        image: &PinnedImage,
        envelope: &[u8],
        predicate_type: &str,
    ) -> Result<String, RegistryError> {
        let annotations =
            json!({PREDICATE_TYPE_ANNOTATION: predicate_type, SIGNATURE_ANNOTATION: ""});
        self.push_layer(image, Attachment::Attestations, envelope, annotations)
            .await
    }

    async fn push_layer(
        &self,
        image: &PinnedImage,
        kind: Attachment,
        payload: &[u8],
        annotations: Value,
    ) -> Result<String, RegistryError> {
        let r = kind.reference(image);
        let (mut manifest, mut config) = match self.attachment_manifest(&r).await? {
            Some(m) => {
                let cfg = self.existing_config(&r, &m).await?;
                (m, cfg)
            }
            None => (
                json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}),
                json!({"architecture": "", "os": "", "config": {},
                       "rootfs": {"type": "layers", "diff_ids": []}}),
            ),
        };
        let payload_digest = sha256(payload);
        let layer = json!({
            "mediaType": kind.layer_media_type(),
            "digest": payload_digest,
            "size": payload.len(),
            "annotations": annotations,
        });
        let layers = manifest["layers"].as_array_mut().ok_or_else(|| {
            RegistryError::Refused("the existing signature manifest has no layers list".into())
        })?;
        if !layers.contains(&layer) {
            layers.push(layer);
            self.client
                .push_blob(&r, payload, &payload_digest)
                .await
                .map_err(|e| RegistryError::request("uploading the signature payload", e))?;
            match config["rootfs"]["diff_ids"].as_array_mut() {
                Some(ids) => ids.push(json!(payload_digest)),
                None => config["rootfs"] = json!({"type": "layers", "diff_ids": [payload_digest]}),
            }
        }
        let config_bytes = to_json(&config)?;
        let config_digest = sha256(&config_bytes);
        self.client
            .push_blob(&r, &config_bytes, &config_digest)
            .await
            .map_err(|e| RegistryError::request("uploading the signature config", e))?;
        manifest["config"] = json!({"mediaType": OCI_CONFIG, "digest": config_digest,
                                    "size": config_bytes.len()});
        let body = to_json(&manifest)?;
        let media_type = manifest["mediaType"].as_str().unwrap_or(OCI_MANIFEST);
        let content_type = media_type.parse().map_err(|_| RegistryError::Malformed {
            what: "the signature manifest".into(),
            reason: format!("media type {media_type:?}"),
        })?;
        self.client
            .push_manifest_raw(&r, body, content_type)
            .await
            .map_err(|e| RegistryError::request("uploading the signature manifest", e))?;
        Ok(r.whole())
    }

    async fn existing_config(
        &self,
        r: &Reference,
        manifest: &Value,
    ) -> Result<Value, RegistryError> {
        let what = "the existing signature config";
        let digest = manifest["config"]["digest"].as_str().unwrap_or_default();
        let size = manifest["config"]["size"].as_u64().unwrap_or(u64::MAX);
        let raw = self.fetch_blob(r, what, digest, size, MAX_DOCUMENT).await?;
        serde_json::from_slice(&raw).map_err(|e| RegistryError::Malformed {
            what: format!("{what} is not JSON"),
            reason: e.to_string(),
        })
    }
}

fn to_json(v: &Value) -> Result<Vec<u8>, RegistryError> {
    serde_json::to_vec(v).map_err(|e| RegistryError::Malformed {
        what: "a signature document".into(),
        reason: e.to_string(),
    })
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}
