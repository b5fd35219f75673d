//! Asset tags and key release on the node side.
//!
//! The node's asset-tag digest lives in TPM NV index `ASSET_TAG_NV_INDEX` and is folded
//! into every quote (`ironroot_api::quote_nonce`). To receive a key, the node answers a
//! challenge with a quote and a TPM2_Certify of a binding key made in its TPM, both over
//! the challenge's nonce; the broker wraps the key to that binding key and only this TPM
//! can unwrap it.

use crate::run::Session;
use crate::AgentError;
use ironroot_api::{
    BindingKeyProof, IssuedTag, ReleaseRequest, ReleaseResponse, ASSET_TAG_NV_INDEX, B64,
};
use ironroot_crypto::{digest, HashAlg};
use ironroot_tpm::{BindingKey, TpmDevice};
use zeroize::Zeroizing;

/// The digest provisioned in the TPM, if the index holds one.
pub(crate) fn provisioned_tag(t: &mut dyn TpmDevice) -> Option<Vec<u8>> {
    t.nv_read(ASSET_TAG_NV_INDEX).ok().filter(|d| d.len() == 32)
}

/// A key released to this node, unwrapped by its TPM.
pub struct ReleasedKey {
    pub key_id: String,
    pub material: Zeroizing<Vec<u8>>,
    pub report_id: String,
    pub timings: ReleaseTimings,
}

/// Where a release's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReleaseTimings {
    /// The TPM's own work: the quote (with reading the logs), TPM2_Certify, and the
    /// RSA-OAEP unbind (and making the binding key, on first use).
    pub tpm: std::time::Duration,
    /// The challenge round trip.
    pub challenge: std::time::Duration,
    /// The release request's round trip: the broker's whole decision (attestation,
    /// policy, certification check, wrap, release log) plus loopback or network.
    pub broker: std::time::Duration,
    pub total: std::time::Duration,
}

impl Session {
    /// Makes the TPM hold `wanted` (hex SHA-256 of the node's tag certificate): fetches
    /// the certificate, checks its digest, and writes it to the NV index; with `None`,
    /// removes a provisioned tag.
    pub async fn sync_asset_tag(&self, wanted: Option<&str>) -> Result<(), AgentError> {
        let Some(wanted) = wanted else {
            return self
                .with_tpm(|t| {
                    if provisioned_tag(t).is_some() {
                        t.nv_undefine(ASSET_TAG_NV_INDEX)?;
                        tracing::info!("asset tag removed from the TPM (revoked)");
                    }
                    Ok(())
                })
                .await;
        };
        let tag: IssuedTag = self.client()?.asset_tag().await?;
        let d = digest(HashAlg::Sha256, tag.certificate.as_bytes());
        if hex::encode(&d) != wanted || tag.digest != wanted {
            return Err(AgentError::Config(
                "the asset-tag certificate the service sent does not match its digest".into(),
            ));
        }
        self.with_tpm(move |t| {
            if provisioned_tag(t).is_none() {
                // Undefined, or of another size: (re)define it.
                let _ = t.nv_undefine(ASSET_TAG_NV_INDEX);
                t.nv_define(ASSET_TAG_NV_INDEX, 32)?;
            }
            t.nv_write(ASSET_TAG_NV_INDEX, &d)?;
            Ok(())
        })
        .await?;
        tracing::info!(tags = ?tag.tags, "asset tag provisioned into the TPM");
        Ok(())
    }

    /// Asks the broker for key `key` (id or name) with a fresh attestation and a binding
    /// key certified by the AK, and unwraps the answer inside the TPM.
    pub async fn release_key(&self, key: &str) -> Result<ReleasedKey, AgentError> {
        let started = std::time::Instant::now();
        let prepared = self.prepare_release().await?;
        let mut timings = prepared.timings;
        let t0 = std::time::Instant::now();
        let r = self.post_release(key, &prepared.request).await?;
        timings.broker = t0.elapsed();
        let t0 = std::time::Instant::now();
        let material = self
            .open_release(&prepared.binding, r.wrapped_key.0)
            .await?;
        timings.tpm += t0.elapsed();
        timings.total = started.elapsed();
        Ok(ReleasedKey {
            key_id: r.key_id,
            material,
            report_id: r.report_id,
            timings,
        })
    }

    /// The node's side of a release request: the TPM holds the current asset tag, a fresh
    /// challenge is answered with a quote, and the binding key is certified over it.
    pub async fn prepare_release(&self) -> Result<PreparedRelease, AgentError> {
        let mut timings = ReleaseTimings::default();
        let current: Option<String> =
            match self.client()?.asset_tag().await.map_err(AgentError::from) {
                Ok(t) => Some(t.digest),
                Err(AgentError::Refused(e)) if e.kind == ironroot_api::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
        let held = self
            .with_tpm(|t| Ok(provisioned_tag(t).map(hex::encode)))
            .await?;
        if held != current {
            self.sync_asset_tag(current.as_deref()).await?;
        }
        let bk = {
            let mut binding = self.binding.lock().await;
            if binding.is_none() {
                let t0 = std::time::Instant::now();
                *binding = Some(self.with_tpm(|t| Ok(t.create_binding_key()?)).await?);
                timings.tpm += t0.elapsed();
            }
            binding
                .clone()
                .ok_or_else(|| AgentError::Config("no binding key".into()))?
        };
        let t0 = std::time::Instant::now();
        let ch = self.challenge().await?;
        timings.challenge = t0.elapsed();
        let t0 = std::time::Instant::now();
        let evidence = self.collect(&ch).await?;
        let (bk2, nonce) = (bk.clone(), ch.nonce.0.clone());
        let cert = self
            .with_tpm(move |t| Ok(t.certify_binding_key(&bk2, &nonce)?))
            .await?;
        timings.tpm += t0.elapsed();
        let request = ReleaseRequest {
            evidence,
            binding_key: BindingKeyProof {
                public: B64(bk.public.clone()),
                certify_attest: B64(cert.attest),
                certify_signature: B64(cert.signature),
            },
        };
        Ok(PreparedRelease {
            request,
            binding: bk,
            timings,
        })
    }

    /// Sends a release request for `key` as this node (mutual TLS).
    pub async fn post_release(
        &self,
        key: &str,
        request: &ReleaseRequest,
    ) -> Result<ReleaseResponse, AgentError> {
        Ok(self.client()?.release(key, request).await?)
    }

    /// Unwraps a released key inside this TPM (RSA-OAEP-SHA256, label "TPM2\0").
    pub async fn open_release(
        &self,
        binding: &BindingKey,
        wrapped: Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        let bk = binding.clone();
        self.with_tpm(move |t| Ok(t.unbind(&bk, &wrapped, b"TPM2\0")?))
            .await
    }
}

/// A release request ready to send, and the binding key it names.
pub struct PreparedRelease {
    pub request: ReleaseRequest,
    pub binding: BindingKey,
    pub timings: ReleaseTimings,
}
