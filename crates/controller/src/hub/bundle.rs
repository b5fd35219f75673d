//! A bundle from the hub, checked before anything reads its policies: the signature
//! (the hub's key, from its JWKS), that it was issued to this cluster, that its document
//! is the one the signature covers (SHA-256), that it is not older than the bundle held
//! (no rollback to a weaker set), and that the document is a valid policy set.

use ironroot_api::BundlePayload;
use ironroot_crypto::{JwkSet, JwsError};
use ironroot_policy::{LoadError, PolicySet};

/// The largest bundle read: the policy set's own limit, base64 and JSON-escaped, and room.
pub const MAX_BUNDLE_BYTES: usize = 4 * ironroot_policy::MAX_INPUT_BYTES + 64 * 1024;

/// Why a bundle was refused; the controller keeps the set it holds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("the bundle is {0} bytes; at most {MAX_BUNDLE_BYTES} are read")]
    TooLarge(usize),
    #[error("the bundle is signed by key {0:?}, which the hub's JWKS does not hold")]
    UnknownKey(String),
    #[error("the bundle's signature does not verify: {0}")]
    Signature(JwsError),
    #[error("the bundle's payload is not a bundle: {0}")]
    Payload(String),
    #[error("the bundle was issued to cluster {got:?}, not to this one ({expected:?})")]
    OtherCluster { expected: String, got: String },
    #[error("the bundle says version {outer} outside its signature and {signed} inside")]
    VersionMismatch { outer: u64, signed: u64 },
    #[error("the bundle's version {offered} is older than the version held, {held}: refused as a rollback")]
    Rollback { held: u64, offered: u64 },
    #[error("the bundle's version {version} differs from the one held under the same version")]
    Rewritten { version: u64 },
    #[error("the bundle's document does not match its signed SHA-256")]
    Sha256Mismatch,
    #[error("the bundle's policy set is invalid: {0}")]
    Document(LoadError),
}

/// What this cluster holds now: the version and the document's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub version: u64,
    pub sha256: String,
}

/// A bundle that passed every check.
#[derive(Debug)]
pub struct VerifiedBundle {
    pub payload: BundlePayload,
    pub set: PolicySet,
    /// The compact JWS itself, the form kept on disk (re-verified at start).
    pub jws: String,
}

impl VerifiedBundle {
    pub fn held(&self) -> Held {
        Held {
            version: self.payload.version,
            sha256: self.payload.sha256.clone(),
        }
    }
}

/// Checks `jws` for the cluster `cluster_id`, holding `held`. `outer_version` is the
/// version the hub's answer named outside the signature, when there was one.
pub fn verify(
    jwks: &JwkSet,
    jws: &str,
    outer_version: Option<u64>,
    cluster_id: &str,
    held: Option<&Held>,
) -> Result<VerifiedBundle, BundleError> {
    if jws.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(jws.len()));
    }
    let bytes = jwks.verify_compact(jws).map_err(|e| match e {
        JwsError::UnknownKey(kid) => BundleError::UnknownKey(kid),
        e => BundleError::Signature(e),
    })?;
    let payload: BundlePayload =
        serde_json::from_slice(&bytes).map_err(|e| BundleError::Payload(e.to_string()))?;
    if payload.cluster != cluster_id {
        return Err(BundleError::OtherCluster {
            expected: cluster_id.to_owned(),
            got: payload.cluster,
        });
    }
    if let Some(outer) = outer_version.filter(|v| *v != payload.version) {
        return Err(BundleError::VersionMismatch {
            outer,
            signed: payload.version,
        });
    }
    let sha = hex::encode(ironroot_crypto::digest(
        ironroot_crypto::HashAlg::Sha256,
        payload.document.as_bytes(),
    ));
    if !sha.eq_ignore_ascii_case(&payload.sha256) {
        return Err(BundleError::Sha256Mismatch);
    }
    if let Some(h) = held {
        if payload.version < h.version {
            return Err(BundleError::Rollback {
                held: h.version,
                offered: payload.version,
            });
        }
        // A version is immutable at the hub: the same number with other content is a
        // hub (or a key) that cannot be trusted to mean what it says.
        if payload.version == h.version && !sha.eq_ignore_ascii_case(&h.sha256) {
            return Err(BundleError::Rewritten {
                version: payload.version,
            });
        }
    }
    let set = PolicySet::from_yaml(payload.document.as_bytes()).map_err(BundleError::Document)?;
    Ok(VerifiedBundle {
        payload,
        set,
        jws: jws.to_owned(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ironroot_crypto::ServiceSigningKey;

    pub const DOC: &str = "version: 3\npolicies:\n  - id: no-privileged\n    description: No privileged containers.\n    severity: critical\n    mode: enforce\n    remediation: deny\n    rule: { no-privileged: {} }\n";

    pub fn payload(version: u64, cluster: &str, document: &str) -> BundlePayload {
        BundlePayload {
            version,
            cluster: cluster.into(),
            cluster_name: "east".into(),
            issued_at: 1,
            sha256: hex::encode(ironroot_crypto::digest(
                ironroot_crypto::HashAlg::Sha256,
                document.as_bytes(),
            )),
            document: document.into(),
        }
    }

    pub fn sign(key: &ServiceSigningKey, p: &BundlePayload) -> String {
        key.sign_compact("policy-bundle+jws", &serde_json::to_vec(p).unwrap())
            .unwrap()
    }

    fn setup() -> (ServiceSigningKey, JwkSet) {
        let key = ServiceSigningKey::generate().unwrap();
        let jwks = JwkSet {
            keys: vec![key.jwk()],
        };
        (key, jwks)
    }

    #[test]
    fn a_good_bundle_verifies_and_parses() {
        let (key, jwks) = setup();
        let jws = sign(&key, &payload(3, "c1", DOC));
        let b = verify(&jwks, &jws, Some(3), "c1", None).unwrap();
        assert_eq!(b.payload.version, 3);
        assert_eq!(b.set.policies()[0].id, "no-privileged");
        let held = b.held();
        // The same bundle again (a restart) is accepted.
        verify(&jwks, &jws, None, "c1", Some(&held)).unwrap();
    }

    #[test]
    fn a_bundle_signed_by_another_key_is_refused() {
        let (_, jwks) = setup();
        let other = ServiceSigningKey::generate().unwrap();
        let jws = sign(&other, &payload(3, "c1", DOC));
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", None),
            Err(BundleError::UnknownKey(_))
        ));
        // The same kid with another key: a forged signature.
        let mut forged = jwks.clone();
        forged.keys[0].kid = other.kid().to_owned();
        let (k2, _) = setup();
        forged.keys[0].x = k2.jwk().x;
        forged.keys[0].y = k2.jwk().y;
        assert!(matches!(
            verify(&forged, &jws, None, "c1", None),
            Err(BundleError::Signature(JwsError::BadSignature))
        ));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let (key, jwks) = setup();
        let jws = sign(&key, &payload(3, "c1", DOC));
        let mut parts: Vec<&str> = jws.split('.').collect();
        let evil = sign(&key, &payload(9, "c1", DOC));
        let evil_payload = evil.split('.').nth(1).unwrap().to_owned();
        parts[1] = &evil_payload;
        let spliced = parts.join(".");
        assert!(matches!(
            verify(&jwks, &spliced, None, "c1", None),
            Err(BundleError::Signature(JwsError::BadSignature))
        ));
    }

    #[test]
    fn a_bundle_for_another_cluster_is_refused() {
        let (key, jwks) = setup();
        let jws = sign(&key, &payload(3, "c2", DOC));
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", None),
            Err(BundleError::OtherCluster { got, .. }) if got == "c2"
        ));
    }

    #[test]
    fn an_older_bundle_is_a_rollback_and_a_rewritten_version_is_refused() {
        let (key, jwks) = setup();
        let held = Held {
            version: 4,
            sha256: "00".repeat(32),
        };
        let jws = sign(&key, &payload(3, "c1", DOC));
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", Some(&held)),
            Err(BundleError::Rollback {
                held: 4,
                offered: 3
            })
        ));
        let jws = sign(&key, &payload(4, "c1", DOC));
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", Some(&held)),
            Err(BundleError::Rewritten { version: 4 })
        ));
        let jws = sign(&key, &payload(5, "c1", DOC));
        assert!(verify(&jwks, &jws, None, "c1", Some(&held)).is_ok());
    }

    #[test]
    fn a_document_that_does_not_match_its_hash_is_refused() {
        let (key, jwks) = setup();
        let mut p = payload(3, "c1", DOC);
        p.document = DOC.replace("critical", "low");
        let jws = sign(&key, &p);
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", None),
            Err(BundleError::Sha256Mismatch)
        ));
    }

    #[test]
    fn an_invalid_policy_set_is_refused() {
        let (key, jwks) = setup();
        let doc = DOC.replace("no-privileged: {}", "no-such-rule: {}");
        let jws = sign(&key, &payload(3, "c1", &doc));
        assert!(matches!(
            verify(&jwks, &jws, None, "c1", None),
            Err(BundleError::Document(_))
        ));
    }

    #[test]
    fn the_version_outside_the_signature_must_match_the_signed_one() {
        let (key, jwks) = setup();
        let jws = sign(&key, &payload(3, "c1", DOC));
        assert!(matches!(
            verify(&jwks, &jws, Some(7), "c1", None),
            Err(BundleError::VersionMismatch {
                outer: 7,
                signed: 3
            })
        ));
    }
}
