//! Asset tags and the key broker: tag certificates, keys with transfer policies, and key
//! release to attested nodes.

use crate::{EvidenceRequest, B64};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The TPM NV index an agent provisions its asset-tag digest into (SecL-DC's index).
pub const ASSET_TAG_NV_INDEX: u32 = 0x01C1_0110;

/// `POST /v1/hosts/{id}/tags`: the tags to certify for a host, replacing any before.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    pub tags: BTreeMap<String, String>,
}

/// What a tag certificate says: these tags belong to the host with this EK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagCertificate {
    pub serial: String,
    pub host_id: String,
    pub hardware_uuid: String,
    /// SHA-256 of the host's EK public area (TPM2B_PUBLIC), hex: the hardware identity.
    pub ek_sha256: String,
    pub tags: BTreeMap<String, String>,
    pub issued_at: u64,
}

/// A tag certificate as issued: the compact JWS signed by the service's tag key
/// (`/.well-known/tag-jwks.json`), and the SHA-256 of its text, which the node
/// provisions into its TPM and folds into every quote.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuedTag {
    pub serial: String,
    pub host_id: String,
    pub certificate: String,
    /// Hex SHA-256 of `certificate`'s bytes.
    pub digest: String,
    pub tags: BTreeMap<String, String>,
    pub issued_at: u64,
    pub revoked_at: Option<u64>,
}

/// Who may receive a key. A node must also be trusted by a fresh attestation: that is
/// not optional. The policy must say who else qualifies, or say explicitly that any
/// trusted node does (`any_trusted_node`): an empty policy `{}` is refused, never read
/// as "anyone trusted" ([`KeyPolicy::check_stated`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPolicy {
    /// Release to any node a fresh attestation finds trusted, with no further condition.
    /// Exclusive with `asset_tags` and `flavor_groups`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_trusted_node: bool,
    /// Every one of these tags, with this value, must be certified for the node and
    /// covered by its quote.
    #[serde(default)]
    pub asset_tags: BTreeMap<String, String>,
    /// If not empty, the node must be judged by one of these flavor groups.
    #[serde(default)]
    pub flavor_groups: Vec<String>,
    /// Unix seconds after which the key is released to nobody.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

/// A transfer policy that does not say who may receive the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPolicyError {
    #[error(
        "the transfer policy does not say who may receive the key: give asset_tags or \
         flavor_groups, or set \"any_trusted_node\": true to release it to any trusted node"
    )]
    Unstated,
    #[error(
        "the transfer policy sets any_trusted_node and also asset_tags or flavor_groups: \
         say one or the other"
    )]
    Contradictory,
}

impl KeyPolicy {
    /// The explicit policy "any node a fresh attestation finds trusted".
    pub fn any_trusted_node() -> Self {
        KeyPolicy {
            any_trusted_node: true,
            ..KeyPolicy::default()
        }
    }

    /// The policy states who may receive the key: a tag or group condition, or
    /// `any_trusted_node`, not both. `{}` states nothing and is refused.
    pub fn check_stated(&self) -> Result<(), KeyPolicyError> {
        let conditions = !self.asset_tags.is_empty() || !self.flavor_groups.is_empty();
        match (self.any_trusted_node, conditions) {
            (false, false) => Err(KeyPolicyError::Unstated),
            (true, true) => Err(KeyPolicyError::Contradictory),
            _ => Ok(()),
        }
    }
}

/// `POST /v1/keys`: create a key (random AES-256) or import one. The policy is required
/// and must be stated ([`KeyPolicy::check_stated`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    pub policy: KeyPolicy,
    /// 32 bytes to import instead of generating.
    #[serde(default)]
    pub material: Option<B64>,
}

/// A key as listed: never its material.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    pub key_id: String,
    pub name: String,
    pub policy: KeyPolicy,
    pub created_at: u64,
    pub imported: bool,
}

/// `POST /v1/keys/{id}/wrap`: seal bytes (an image layer's private options) under the
/// key, inside the broker; the key itself never leaves it on this path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrapRequest {
    pub plaintext: B64,
}

/// AES-256-GCM of the plaintext under the key, with the key id as associated data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrappedBlob {
    pub key_id: String,
    pub iv: B64,
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: B64,
}

/// A TPM-resident binding key and the AK's TPM2_Certify of it over the challenge nonce.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingKeyProof {
    /// Marshalled TPM2B_PUBLIC of the binding key.
    pub public: B64,
    /// Marshalled TPMS_ATTEST of the certification.
    pub certify_attest: B64,
    /// Marshalled TPMT_SIGNATURE of the certification.
    pub certify_signature: B64,
}

/// `POST /v1/keys/{id}/release`: a fresh attestation (answering a challenge) and the
/// binding key to wrap the key to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    pub evidence: EvidenceRequest,
    pub binding_key: BindingKeyProof,
}

/// The key, RSA-OAEP-SHA256 (label "TPM2\0") encrypted to the binding key: only that
/// TPM can open it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseResponse {
    pub key_id: String,
    pub wrapped_key: B64,
    pub report_id: String,
    pub report_jws: String,
}

/// One release or refusal, as the broker's log records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRecord {
    pub seq: i64,
    pub key_id: String,
    pub host_id: Option<String>,
    pub hostname: Option<String>,
    pub at: u64,
    pub released: bool,
    /// Why, in words: "released", or the refusal.
    pub reason: String,
    pub report_id: Option<String>,
    /// What the decision rested on (verdict, tags, binding key name, policy).
    pub evidence: serde_json::Value,
}

/// The quote's qualifying data for a challenge `nonce` when the node presents asset-tag
/// digest `tag`: SHA-256(nonce || tag), as SecL-DC folds its tag into the nonce. Without
/// a tag the nonce itself is quoted.
pub fn quote_nonce(nonce: &[u8], tag: Option<&[u8]>) -> Vec<u8> {
    match tag {
        None => nonce.to_vec(),
        Some(t) => {
            let mut h = ironroot_crypto::Hasher::new(ironroot_crypto::HashAlg::Sha256);
            h.update(nonce);
            h.update(t);
            h.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_empty_policy_is_refused_not_read_as_any_trusted_node() {
        let empty: KeyPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.check_stated(), Err(KeyPolicyError::Unstated));
        let expiring: KeyPolicy = serde_json::from_str(r#"{"expires_at": 4000000000}"#).unwrap();
        assert_eq!(expiring.check_stated(), Err(KeyPolicyError::Unstated));
        assert!(KeyPolicyError::Unstated
            .to_string()
            .contains("\"any_trusted_node\": true"));

        let any: KeyPolicy = serde_json::from_str(r#"{"any_trusted_node": true}"#).unwrap();
        assert_eq!(any, KeyPolicy::any_trusted_node());
        assert_eq!(any.check_stated(), Ok(()));
        let eu: KeyPolicy = serde_json::from_str(r#"{"asset_tags": {"region": "EU"}}"#).unwrap();
        assert_eq!(eu.check_stated(), Ok(()));
        let group: KeyPolicy = serde_json::from_str(r#"{"flavor_groups": ["prod"]}"#).unwrap();
        assert_eq!(group.check_stated(), Ok(()));
        let both: KeyPolicy =
            serde_json::from_str(r#"{"any_trusted_node": true, "asset_tags": {"region": "EU"}}"#)
                .unwrap();
        assert_eq!(both.check_stated(), Err(KeyPolicyError::Contradictory));
    }

    #[test]
    fn a_create_request_without_a_policy_is_refused() {
        let e = serde_json::from_str::<CreateKey>(r#"{"name": "k"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `policy`"), "{e}");
    }

    #[test]
    fn policies_stored_before_any_trusted_node_still_read_and_round_trip() {
        let stored = r#"{"asset_tags":{"region":"EU"},"flavor_groups":[],"expires_at":null}"#;
        let p: KeyPolicy = serde_json::from_str(stored).unwrap();
        assert!(!p.any_trusted_node);
        assert_eq!(serde_json::to_string(&p).unwrap(), stored);
        let any = serde_json::to_string(&KeyPolicy::any_trusted_node()).unwrap();
        assert_eq!(
            any,
            r#"{"any_trusted_node":true,"asset_tags":{},"flavor_groups":[],"expires_at":null}"#
        );
    }
}
