//! cosign signatures in a registry, with `oci-client`: the `sha256-<hex>.sig` tag in the
//! image's repository holds an OCI manifest whose layers are simple-signing payloads
//! (media type `application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64
//! signature in the `dev.cosignproject.cosign/signature` annotation. Its config is an
//! otherwise empty image config listing those layers as `rootfs.diff_ids`, as cosign and
//! containers/image write it. Signing appends a layer, as both of them do.
//!
//! Attestations live the same way under `sha256-<hex>.att`: each layer is a DSSE envelope
//! (`application/vnd.dsse.envelope.v1+json`) annotated with its statement's
//! `predicateType`, as `cosign attest` writes; [`Attachment`] says which tag is meant.
//!
//! Everything read here is untrusted: sizes are bounded and every blob is checked against
//! its digest; whether a signature is good is decided by the caller.

use super::identity::PinnedImage;
use anyhow::{bail, Context};
use ironroot_crypto::{digest, HashAlg};
use ironroot_signing::cosign::{PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION};
use ironroot_signing::dsse::{ENVELOPE_MEDIA_TYPE, MAX_ENVELOPE_LEN, PREDICATE_TYPE_ANNOTATION};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::{json, Value};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const MAX_MANIFEST: usize = 4 << 20;
const MAX_PAYLOAD: u64 = ironroot_signing::payload::MAX_PAYLOAD_LEN as u64;
/// More layers than this in one `.sig` or `.att` manifest is not a store but an attack.
const MAX_SIGNATURES: usize = 256;

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

    fn max_layer(self) -> u64 {
        match self {
            Attachment::Signatures => MAX_PAYLOAD,
            Attachment::Attestations => MAX_ENVELOPE_LEN as u64,
        }
    }

    /// The tag: `sha256-<hex>.sig` or `sha256-<hex>.att`.
    pub fn tag(self, image: &PinnedImage) -> String {
        match self {
            Attachment::Signatures => image.cosign_signature_tag(),
            Attachment::Attestations => {
                format!("{}.att", image.digest.as_str().replacen(':', "-", 1))
            }
        }
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

pub struct Registry {
    client: Client,
    auth: RegistryAuth,
}

impl Registry {
    /// `crate::registry`'s client (plain HTTP only when asked, for a loopback test
    /// registry) with the user's credentials for the image's repository.
    pub fn new(reference: &Reference, plain_http: bool) -> anyhow::Result<Registry> {
        Ok(Registry {
            client: crate::registry::client(
                reference,
                plain_http,
                std::time::Duration::from_secs(60),
            )?,
            auth: crate::registry::auth::for_reference(reference)?,
        })
    }

    /// Confirms that the registry holds exactly the pinned manifest, so that nobody signs
    /// a digest that was mistyped or belongs to another repository.
    pub async fn check_image(&self, image: &PinnedImage) -> anyhow::Result<()> {
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
        let (raw, _) = self
            .client
            .pull_manifest_raw(&image.reference, &self.auth, &accept)
            .await
            .with_context(|| format!("{}: the image manifest", image.reference.whole()))?;
        if raw.len() > MAX_MANIFEST || sha256(&raw) != image.digest.as_str() {
            bail!(
                "the registry's manifest for {} does not have digest {}; refusing to sign",
                image.name,
                image.digest
            );
        }
        Ok(())
    }

    fn attachment_reference(image: &PinnedImage, kind: Attachment) -> Reference {
        Reference::with_tag(
            image.reference.registry().to_owned(),
            image.reference.repository().to_owned(),
            kind.tag(image),
        )
    }

    /// The `.sig` or `.att` manifest, or `None` when the tag does not exist.
    async fn sig_manifest(&self, sig_ref: &Reference) -> anyhow::Result<Option<Value>> {
        match self
            .client
            .pull_manifest_raw(sig_ref, &self.auth, &[OCI_MANIFEST, DOCKER_MANIFEST])
            .await
        {
            Ok((raw, _)) => {
                if raw.len() > MAX_MANIFEST {
                    bail!("{}: the manifest is too large", sig_ref.whole());
                }
                let v: Value = serde_json::from_slice(&raw)
                    .with_context(|| format!("{}: the manifest is not JSON", sig_ref.whole()))?;
                Ok(Some(v))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => {
                Err(e).with_context(|| format!("{}: the attachment manifest", sig_ref.whole()))
            }
        }
    }

    async fn blob(
        &self,
        r: &Reference,
        digest: &str,
        max: u64,
        size: u64,
    ) -> Result<Vec<u8>, String> {
        if size > max {
            return Err(format!(
                "blob {digest} is {size} bytes, more than the {max} allowed"
            ));
        }
        let mut out = Vec::new();
        self.client
            .pull_blob(r, digest, &mut out)
            .await
            .map_err(|e| format!("fetching blob {digest}: {e}"))?;
        if out.len() as u64 > max || sha256(&out) != digest {
            return Err(format!("blob {digest}: the registry sent other content"));
        }
        Ok(out)
    }

    /// Every layer of the image's `.sig` manifest; empty when there is none.
    pub async fn signatures(&self, image: &PinnedImage) -> anyhow::Result<Vec<FoundSignature>> {
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
    ) -> anyhow::Result<Vec<FoundLayer>> {
        let sig_ref = Self::attachment_reference(image, kind);
        let Some(manifest) = self.sig_manifest(&sig_ref).await? else {
            return Ok(Vec::new());
        };
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        let mut found = Vec::new();
        for (index, layer) in layers.iter().take(MAX_SIGNATURES).enumerate() {
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
                (Some(d), Some(size)) if d.starts_with("sha256:") => {
                    self.blob(&sig_ref, d, kind.max_layer(), size).await
                }
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
    ) -> anyhow::Result<String> {
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
    ) -> anyhow::Result<String> {
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
    ) -> anyhow::Result<String> {
        let sig_ref = Self::attachment_reference(image, kind);
        let existing = self.sig_manifest(&sig_ref).await?;
        let (mut manifest, mut config) = match existing {
            Some(m) => {
                let cfg = self.existing_config(&sig_ref, &m).await?;
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
        let layers = manifest["layers"]
            .as_array_mut()
            .context("the existing signature manifest has no layers list")?;
        if !layers.contains(&layer) {
            layers.push(layer);
            self.client
                .push_blob(&sig_ref, payload, &payload_digest)
                .await
                .context("uploading the signature payload")?;
            match config["rootfs"]["diff_ids"].as_array_mut() {
                Some(ids) => ids.push(json!(payload_digest)),
                None => config["rootfs"] = json!({"type": "layers", "diff_ids": [payload_digest]}),
            }
        }
        let config_bytes = serde_json::to_vec(&config)?;
        let config_digest = sha256(&config_bytes);
        self.client
            .push_blob(&sig_ref, &config_bytes, &config_digest)
            .await
            .context("uploading the signature config")?;
        manifest["config"] = json!({"mediaType": OCI_CONFIG, "digest": config_digest,
                                    "size": config_bytes.len()});
        let body = serde_json::to_vec(&manifest)?;
        let content_type = manifest["mediaType"]
            .as_str()
            .unwrap_or(OCI_MANIFEST)
            .parse()?;
        self.client
            .push_manifest_raw(&sig_ref, body, content_type)
            .await
            .context("uploading the signature manifest")?;
        Ok(sig_ref.whole())
    }

    async fn existing_config(
        &self,
        sig_ref: &Reference,
        manifest: &Value,
    ) -> anyhow::Result<Value> {
        let digest = manifest["config"]["digest"].as_str().unwrap_or_default();
        let size = manifest["config"]["size"].as_u64().unwrap_or(u64::MAX);
        let raw = self
            .blob(sig_ref, digest, MAX_MANIFEST as u64, size)
            .await
            .map_err(anyhow::Error::msg)
            .context("the existing signature config")?;
        serde_json::from_slice(&raw).context("the existing signature config is not JSON")
    }
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

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(HashAlg::Sha256, data)))
}
