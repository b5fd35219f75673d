//! DSSE v1 envelopes (secure-systems-lab/dsse `envelope.md`, `protocol.md`), as cosign
//! stores in-toto attestations in the `sha256-<hex>.att` tag:
//! `{"payloadType", "payload": base64(body), "signatures": [{"keyid", "sig": base64}]}`.
//!
//! A signature is cosign's ECDSA P-256 over SHA-256 (ASN.1 DER) of the pre-authentication
//! encoding `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, so that the payload type
//! is signed along with the body and cannot be swapped. The `keyid` is an unauthenticated
//! hint and is never used to decide anything.
//!
//! Envelopes read from a registry are untrusted: their size and signature count are
//! bounded, unknown fields are refused, and the statement is handed back only from
//! [`verify_in_toto`], after a signature verified under the caller's key.

use crate::cosign::{CosignError, CosignPublicKey, CosignSigningKey};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement (in-toto attestation `envelope.md`).
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The media type cosign gives the `.att` layer that holds an envelope.
pub const ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The `.att` layer annotation naming the statement's predicate type (as cosign writes it).
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// A scan report with its package list is large, but not larger than this.
pub const MAX_ENVELOPE_LEN: usize = 32 << 20;
/// More signatures than this on one envelope is not a multi-signer setup but an attack.
pub const MAX_SIGNATURES: usize = 16;
const MAX_PAYLOAD_TYPE_LEN: usize = 256;
const MAX_KEYID_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DsseError {
    #[error("the envelope is larger than {MAX_ENVELOPE_LEN} bytes")]
    TooLarge,
    #[error("the envelope is not a DSSE v1 envelope: {0}")]
    Malformed(String),
    #[error("the envelope has no signatures")]
    NoSignatures,
    #[error("the envelope has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("none of the envelope's {0} signature(s) verifies")]
    BadSignature(usize),
    #[error("payload type {0:?} is not {IN_TOTO_PAYLOAD_TYPE}")]
    UnsupportedPayloadType(String),
    #[error("signing: {0}")]
    Signing(#[from] CosignError),
}

/// `PAE(type, body)`: what a DSSE signature covers. Lengths are byte counts in ASCII
/// decimal, so a non-ASCII type counts its UTF-8 bytes.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    );
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

/// One signature of an envelope, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// A parsed envelope. Nothing about it is trusted until [`Envelope::verify`] succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

// The wire form, field names as DSSE spells them (and in the order cosign writes them).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEnvelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// DSSE verifiers must accept standard and URL-safe base64, padded or not.
fn decode_b64(s: &str) -> Result<Vec<u8>, DsseError> {
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&alphabet::STANDARD, lenient)
        .decode(s)
        .or_else(|_| GeneralPurpose::new(&alphabet::URL_SAFE, lenient).decode(s))
        .map_err(|_| DsseError::Malformed("invalid base64".into()))
}

impl Envelope {
    /// Signs `body` as `payload_type` with a cosign key: one signature, empty keyid, as
    /// `cosign attest` writes.
    pub fn sign(
        key: &CosignSigningKey,
        payload_type: &str,
        body: &[u8],
    ) -> Result<Envelope, DsseError> {
        let sig_b64 = key.sign(&pae(payload_type, body))?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload: body.to_vec(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: decode_b64(&sig_b64)?,
            }],
        })
    }

    /// The envelope's JSON (standard base64), the bytes of the `.att` layer.
    pub fn to_json(&self) -> Result<Vec<u8>, DsseError> {
        let wire = WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: STANDARD.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        serde_json::to_vec(&wire).map_err(|e| DsseError::Malformed(e.to_string()))
    }

    /// Parses untrusted envelope JSON, with limits on every part.
    pub fn parse(input: &[u8]) -> Result<Envelope, DsseError> {
        if input.len() > MAX_ENVELOPE_LEN {
            return Err(DsseError::TooLarge);
        }
        let wire: WireEnvelope =
            serde_json::from_slice(input).map_err(|e| DsseError::Malformed(e.to_string()))?;
        if wire.payload_type.len() > MAX_PAYLOAD_TYPE_LEN {
            return Err(DsseError::Malformed("payloadType is too long".into()));
        }
        match wire.signatures.len() {
            0 => return Err(DsseError::NoSignatures),
            n if n > MAX_SIGNATURES => return Err(DsseError::TooManySignatures),
            _ => {}
        }
        let mut signatures = Vec::with_capacity(wire.signatures.len());
        for s in &wire.signatures {
            if s.keyid.len() > MAX_KEYID_LEN {
                return Err(DsseError::Malformed("keyid is too long".into()));
            }
            signatures.push(EnvelopeSignature {
                keyid: s.keyid.clone(),
                sig: decode_b64(&s.sig)?,
            });
        }
        Ok(Envelope {
            payload: decode_b64(&wire.payload)?,
            payload_type: wire.payload_type,
            signatures,
        })
    }

    /// At least one signature must verify over the PAE under `key`; which one is not
    /// said, since keyids are only hints.
    pub fn verify(&self, key: &CosignPublicKey) -> Result<(), DsseError> {
        let message = pae(&self.payload_type, &self.payload);
        let good = self
            .signatures
            .iter()
            .any(|s| key.verify(&message, &STANDARD.encode(&s.sig)).is_ok());
        if good {
            Ok(())
        } else {
            Err(DsseError::BadSignature(self.signatures.len()))
        }
    }
}

/// Parses and verifies an envelope holding an in-toto Statement; returns the statement's
/// bytes (still to be parsed, and its subject still to be compared with the image).
/// The signature is checked before the payload type, as the protocol orders it.
pub fn verify_in_toto(input: &[u8], key: &CosignPublicKey) -> Result<Vec<u8>, DsseError> {
    let envelope = Envelope::parse(input)?;
    envelope.verify(key)?;
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(DsseError::UnsupportedPayloadType(envelope.payload_type));
    }
    Ok(envelope.payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::cosign::KeyPassword;

    // protocol.md's test vector (secure-systems-lab/dsse, "Test Vectors"): ECDSA P-256,
    // SHA-256, over PAE("http://example.com/HelloWorld", "hello world"). The spec gives the
    // key as decimal X, Y and the signature as raw r||s; here they are re-encoded, without
    // changing them, as the SPKI PEM and DER signature that cosign keys use (converted
    // with python's `cryptography`, which also verified the result).
    const VECTOR_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZ805D3eqNZywjCI19lInBJOp7YMr
CrzAH3CVTAOQ0jgMeCvVTiaRJaRPRDOv8UMs6U4SvKc6pnrIDOoSYI3fdA==
-----END PUBLIC KEY-----
";
    const VECTOR_SIG_DER: &str = "MEQCIANyarEBrVbCdjtsaqyOSHJ14qeRk6CdxfhZ2fjvPEo7AiBR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==";
    const STATEMENT: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;

    fn vector_envelope(sig_b64: &str) -> String {
        format!(
            r#"{{"payload":"aGVsbG8gd29ybGQ=","payloadType":"http://example.com/HelloWorld","signatures":[{{"sig":"{sig_b64}"}}]}}"#
        )
    }

    #[test]
    fn pae_matches_the_published_examples() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        // An empty body still ends in a space; lengths count UTF-8 bytes, not characters.
        assert_eq!(
            pae(IN_TOTO_PAYLOAD_TYPE, b""),
            b"DSSEv1 28 application/vnd.in-toto+json 0 "
        );
        assert!(pae("application/vnd.exämple+json", b"x").starts_with(b"DSSEv1 29 "));
    }

    #[test]
    fn published_p256_vector_verifies_and_is_not_in_toto() {
        let key = CosignPublicKey::from_pem(VECTOR_PUB.as_bytes()).unwrap();
        let env = Envelope::parse(vector_envelope(VECTOR_SIG_DER).as_bytes()).unwrap();
        assert_eq!(env.payload, b"hello world");
        env.verify(&key).unwrap();
        assert_eq!(
            verify_in_toto(vector_envelope(VECTOR_SIG_DER).as_bytes(), &key).unwrap_err(),
            DsseError::UnsupportedPayloadType("http://example.com/HelloWorld".into())
        );
        // The same signature over a swapped payload type does not verify.
        let mut swapped = env.clone();
        swapped.payload_type = IN_TOTO_PAYLOAD_TYPE.into();
        assert_eq!(
            swapped.verify(&key).unwrap_err(),
            DsseError::BadSignature(1)
        );
    }

    #[test]
    fn sign_then_verify_round_trips_and_any_change_fails() {
        let key = CosignSigningKey::generate().unwrap();
        let public = key.public_key().unwrap();
        let json = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, STATEMENT)
            .unwrap()
            .to_json()
            .unwrap();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.starts_with(r#"{"payloadType":"application/vnd.in-toto+json","payload":""#));
        assert!(text.contains(r#""signatures":[{"keyid":"","sig":""#));
        assert_eq!(verify_in_toto(&json, &public).unwrap(), STATEMENT);

        let other = CosignSigningKey::generate().unwrap().public_key().unwrap();
        assert_eq!(
            verify_in_toto(&json, &other).unwrap_err(),
            DsseError::BadSignature(1)
        );
        let mut env = Envelope::parse(&json).unwrap();
        env.payload[2] ^= 1;
        assert_eq!(env.verify(&public).unwrap_err(), DsseError::BadSignature(1));
    }

    #[test]
    fn one_good_signature_among_bad_ones_is_enough() {
        let key = CosignSigningKey::generate().unwrap();
        let mut env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, STATEMENT).unwrap();
        let good = env.signatures[0].clone();
        env.signatures[0].sig[10] ^= 1;
        env.signatures.push(good);
        env.verify(&key.public_key().unwrap()).unwrap();
    }

    #[test]
    fn url_safe_unpadded_base64_is_accepted() {
        let key = CosignPublicKey::from_pem(VECTOR_PUB.as_bytes()).unwrap();
        let der = STANDARD.decode(VECTOR_SIG_DER).unwrap();
        let url = GeneralPurpose::new(
            &alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_encode_padding(false),
        )
        .encode(der);
        Envelope::parse(vector_envelope(&url).as_bytes())
            .unwrap()
            .verify(&key)
            .unwrap();
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        type Expect = fn(&DsseError) -> bool;
        let cases: &[(&str, Expect)] = &[
            (r#"{"payloadType":"t","payload":"","signatures":[]}"#, |e| {
                *e == DsseError::NoSignatures
            }),
            (
                r#"{"payloadType":"t","payload":"","signatures":[{"sig":"AA=="}],"x":1}"#,
                |e| matches!(e, DsseError::Malformed(_)),
            ),
            (
                r#"{"payloadType":"t","payload":"!!","signatures":[{"sig":"AA=="}]}"#,
                |e| matches!(e, DsseError::Malformed(_)),
            ),
            (r#"{"payload":"","signatures":[{"sig":"AA=="}]}"#, |e| {
                matches!(e, DsseError::Malformed(_))
            }),
            (r#"[]"#, |e| matches!(e, DsseError::Malformed(_))),
        ];
        for (input, expected) in cases {
            let err = Envelope::parse(input.as_bytes()).unwrap_err();
            assert!(expected(&err), "{input}: {err:?}");
        }
        let many = format!(
            r#"{{"payloadType":"t","payload":"","signatures":[{}]}}"#,
            vec![r#"{"sig":"AA=="}"#; MAX_SIGNATURES + 1].join(",")
        );
        assert_eq!(
            Envelope::parse(many.as_bytes()).unwrap_err(),
            DsseError::TooManySignatures
        );
        let huge = vec![b' '; MAX_ENVELOPE_LEN + 1];
        assert_eq!(Envelope::parse(&huge).unwrap_err(), DsseError::TooLarge);
    }

    #[test]
    fn encrypted_cosign_key_signs_envelopes() {
        let files = CosignSigningKey::generate_files(KeyPassword::Given(b"pw")).unwrap();
        let key = CosignSigningKey::from_encrypted_pem(
            files.private_pem.as_bytes(),
            KeyPassword::Given(b"pw"),
        )
        .unwrap();
        let public = CosignPublicKey::from_pem(files.public_pem.as_bytes()).unwrap();
        let json = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, STATEMENT)
            .unwrap()
            .to_json()
            .unwrap();
        assert_eq!(verify_in_toto(&json, &public).unwrap(), STATEMENT);
    }
}
