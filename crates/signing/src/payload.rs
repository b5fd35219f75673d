//! The simple-signing payload: the JSON document both cosign and containers/image sign.
//!
//! Rules (containers-signature(5), cosign's SIGNATURE_SPEC): `critical` holds exactly
//! `type`, `image` and `identity`; `image` exactly `docker-manifest-digest`; `identity`
//! exactly `docker-reference`. An unknown field inside `critical` means the signer meant
//! something we do not understand, so it is rejected. `optional` is free-form (cosign writes
//! `null` or annotations, containers/image `creator` and `timestamp`) and never trusted for
//! a decision. A signature only vouches for the digest it names: callers must compare
//! [`SimpleSigningPayload::manifest_digest`] with the image they are admitting.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Payloads larger than this are refused before parsing; real ones are a few hundred bytes.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;
const MAX_REFERENCE_LEN: usize = 1024;

/// Which signing system the payload belongs to, by its `critical.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadType {
    /// `cosign container image signature` (cosign, skopeo `sigstoreSigned`).
    Cosign,
    /// `atomic container signature` (containers/image simple signing with OpenPGP).
    Atomic,
}

impl PayloadType {
    pub const fn as_str(self) -> &'static str {
        match self {
            PayloadType::Cosign => "cosign container image signature",
            PayloadType::Atomic => "atomic container signature",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    #[error("payload is {0} bytes, more than the {MAX_PAYLOAD_LEN} allowed")]
    TooLarge(usize),
    #[error("payload is not a valid simple-signing document: {0}")]
    Malformed(String),
    #[error("payload type is {found:?}, expected {expected:?}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("invalid manifest digest {0:?}")]
    BadDigest(String),
    #[error("invalid docker reference")]
    BadReference,
}

/// A manifest digest as `algorithm:hex`, checked for a known algorithm and exact length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ManifestDigest(String);

impl ManifestDigest {
    /// Accepts `sha256:` (64 hex), `sha384:` (96) and `sha512:` (128), lowercase hex only,
    /// as the OCI digest grammar registers them.
    pub fn parse(s: &str) -> Result<Self, PayloadError> {
        let bad = || PayloadError::BadDigest(s.chars().take(200).collect());
        let (alg, hex) = s.split_once(':').ok_or_else(bad)?;
        let want = match alg {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return Err(bad()),
        };
        let lower_hex = hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex.len() != want || !lower_hex {
            return Err(bad());
        }
        Ok(ManifestDigest(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ManifestDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed (or to-be-signed) simple-signing payload. Parsing it says nothing about who
/// signed it; the signature modules return one only after the signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigningPayload {
    pub payload_type: PayloadType,
    /// `critical.identity.docker-reference`, as the signer wrote it.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the only image this signature is for.
    pub manifest_digest: ManifestDigest,
    /// `optional`, untrusted metadata; empty when absent or `null`.
    pub optional: Map<String, Value>,
}

// Wire shapes. deny_unknown_fields makes serde reject extra and (for structs) duplicate
// keys, which is the strictness containers/image applies to `critical`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    critical: Critical,
    #[serde(default)]
    optional: Option<Map<String, Value>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

impl SimpleSigningPayload {
    pub fn new(
        payload_type: PayloadType,
        docker_reference: &str,
        manifest_digest: ManifestDigest,
    ) -> Result<Self, PayloadError> {
        check_reference(docker_reference)?;
        Ok(SimpleSigningPayload {
            payload_type,
            docker_reference: docker_reference.to_owned(),
            manifest_digest,
            optional: Map::new(),
        })
    }

    /// The JSON bytes to sign. Field order follows what cosign and containers/image write.
    pub fn to_json(&self) -> Result<Vec<u8>, PayloadError> {
        let wire = Wire {
            critical: Critical {
                identity: Identity {
                    docker_reference: self.docker_reference.clone(),
                },
                image: Image {
                    docker_manifest_digest: self.manifest_digest.0.clone(),
                },
                kind: self.payload_type.as_str().to_owned(),
            },
            optional: Some(self.optional.clone()),
        };
        let out = serde_json::to_vec(&wire).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        if out.len() > MAX_PAYLOAD_LEN {
            return Err(PayloadError::TooLarge(out.len()));
        }
        Ok(out)
    }

    /// Parses signed bytes, requiring `critical.type` to be `expected`.
    pub fn parse(bytes: &[u8], expected: PayloadType) -> Result<Self, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_LEN {
            return Err(PayloadError::TooLarge(bytes.len()));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        if wire.critical.kind != expected.as_str() {
            return Err(PayloadError::WrongType {
                expected: expected.as_str(),
                found: wire.critical.kind.chars().take(100).collect(),
            });
        }
        let reference = wire.critical.identity.docker_reference;
        check_reference(&reference)?;
        Ok(SimpleSigningPayload {
            payload_type: expected,
            docker_reference: reference,
            manifest_digest: ManifestDigest::parse(&wire.critical.image.docker_manifest_digest)?,
            optional: wire.optional.unwrap_or_default(),
        })
    }
}

fn check_reference(r: &str) -> Result<(), PayloadError> {
    if r.len() > MAX_REFERENCE_LEN || r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(PayloadError::BadReference);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn build_then_parse_round_trips_for_both_types() {
        for t in [PayloadType::Cosign, PayloadType::Atomic] {
            let p =
                SimpleSigningPayload::new(t, "reg.example/app", ManifestDigest::parse(D).unwrap())
                    .unwrap();
            let json = p.to_json().unwrap();
            assert_eq!(SimpleSigningPayload::parse(&json, t).unwrap(), p);
        }
    }

    #[test]
    fn cosign_layout_and_null_optional_are_accepted() {
        let json = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r/a"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let p = SimpleSigningPayload::parse(json.as_bytes(), PayloadType::Cosign).unwrap();
        assert_eq!(p.manifest_digest.as_str(), D);
        assert!(p.optional.is_empty());
        let built = SimpleSigningPayload::new(PayloadType::Cosign, "r/a", p.manifest_digest)
            .unwrap()
            .to_json()
            .unwrap();
        assert!(String::from_utf8(built)
            .unwrap()
            .starts_with(r#"{"critical":{"identity":{"docker-reference":"r/a"},"image":{"#));
    }

    #[test]
    fn unknown_or_duplicate_critical_fields_are_rejected() {
        let extra = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"atomic container signature","x":1}}}}"#
        );
        let dup = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{D}","docker-manifest-digest":"{D}"}},"type":"atomic container signature"}}}}"#
        );
        let top = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"atomic container signature"}},"evil":1}}"#
        );
        for j in [extra, dup, top] {
            assert!(matches!(
                SimpleSigningPayload::parse(j.as_bytes(), PayloadType::Atomic),
                Err(PayloadError::Malformed(_))
            ));
        }
    }

    #[test]
    fn wrong_type_bad_digest_and_size_are_rejected() {
        let p =
            SimpleSigningPayload::new(PayloadType::Cosign, "r", ManifestDigest::parse(D).unwrap())
                .unwrap()
                .to_json()
                .unwrap();
        assert!(matches!(
            SimpleSigningPayload::parse(&p, PayloadType::Atomic),
            Err(PayloadError::WrongType { .. })
        ));
        for d in [
            "sha256:ABC",
            "md5:00",
            "sha256",
            &D.to_uppercase(),
            &format!("{D}0"),
        ] {
            assert!(ManifestDigest::parse(d).is_err(), "{d}");
        }
        let big = vec![b' '; MAX_PAYLOAD_LEN + 1];
        assert_eq!(
            SimpleSigningPayload::parse(&big, PayloadType::Cosign),
            Err(PayloadError::TooLarge(MAX_PAYLOAD_LEN + 1))
        );
    }
}
