//! Compact JWS (RFC 7515) with ES256, and the JWKS (RFC 7517) that publishes the key.
//!
//! Written here rather than taken from a JWT crate because ironroot signs reports, not
//! tokens: it needs exactly one algorithm, a detached verifier that other components can
//! run offline, and no claim processing. It is about a hundred lines over aws-lc-rs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("unsupported JWS algorithm or key")]
    Unsupported,
    #[error("no key with id {0:?} in the key set")]
    UnknownKey(String),
    #[error("JWS signature does not verify")]
    BadSignature,
    #[error("key generation or loading failed")]
    Key,
}

/// A public key in JWK form (EC P-256 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

/// A JWK set, as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    typ: String,
}

/// The service's report-signing key (ECDSA P-256). Its PKCS#8 form is the only secret;
/// it is never logged or serialised except by [`ServiceSigningKey::to_pkcs8`].
pub struct ServiceSigningKey {
    pair: EcdsaKeyPair,
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
    kid: String,
}

impl std::fmt::Debug for ServiceSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ServiceSigningKey {
    pub fn generate() -> Result<Self, JwsError> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| JwsError::Key)?;
        Self::from_pkcs8(doc.as_ref())
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JwsError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| JwsError::Key)?;
        // The key id is a thumbprint of the public point, so it is stable across restarts.
        let kid = hex_prefix(&crate::digest(
            crate::HashAlg::Sha256,
            pair.public_key().as_ref(),
        ));
        Ok(ServiceSigningKey {
            pair,
            pkcs8: zeroize::Zeroizing::new(der.to_vec()),
            kid,
        })
    }

    pub fn to_pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwk(&self) -> Jwk {
        let p = self.pair.public_key().as_ref();
        Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: B64.encode(&p[1..33]),
            y: B64.encode(&p[33..65]),
            kid: self.kid.clone(),
            use_: "sig".into(),
            alg: "ES256".into(),
        }
    }

    /// Signs `payload` as a compact JWS with header `{"alg":"ES256","kid":..,"typ":typ}`.
    pub fn sign_compact(&self, typ: &str, payload: &[u8]) -> Result<String, JwsError> {
        let header = Header {
            alg: "ES256".into(),
            kid: self.kid.clone(),
            typ: typ.into(),
        };
        let header = serde_json::to_vec(&header).map_err(|_| JwsError::Malformed)?;
        let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| JwsError::Key)?;
        Ok(format!("{signing_input}.{}", B64.encode(sig.as_ref())))
    }
}

impl JwkSet {
    /// Verifies a compact JWS against this key set and returns its payload.
    pub fn verify_compact(&self, jws: &str) -> Result<Vec<u8>, JwsError> {
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let header: Header =
            serde_json::from_slice(&B64.decode(h).map_err(|_| JwsError::Malformed)?)
                .map_err(|_| JwsError::Malformed)?;
        if header.alg != "ES256" {
            return Err(JwsError::Unsupported);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == header.kid)
            .ok_or(JwsError::UnknownKey(header.kid.clone()))?;
        if key.kty != "EC" || key.crv != "P-256" {
            return Err(JwsError::Unsupported);
        }
        let mut point = vec![4u8];
        point.extend(B64.decode(&key.x).map_err(|_| JwsError::Malformed)?);
        point.extend(B64.decode(&key.y).map_err(|_| JwsError::Malformed)?);
        let sig = B64.decode(s).map_err(|_| JwsError::Malformed)?;
        let signing_input = &jws[..h.len() + 1 + p.len()];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(signing_input.as_bytes(), &sig)
            .map_err(|_| JwsError::BadSignature)?;
        B64.decode(p).map_err(|_| JwsError::Malformed)
    }
}

fn hex_prefix(d: &[u8]) -> String {
    hex::encode(d.get(..8).unwrap_or(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject_tamper() {
        let k = ServiceSigningKey::generate().unwrap();
        let set = JwkSet {
            keys: vec![k.jwk()],
        };
        let jws = k
            .sign_compact("trust-report+jws", b"{\"trusted\":true}")
            .unwrap();
        assert_eq!(set.verify_compact(&jws).unwrap(), b"{\"trusted\":true}");
        let forged = jws.replacen(
            &B64.encode(b"{\"trusted\":true}"),
            &B64.encode(b"{\"trusted\":fals}"),
            1,
        );
        assert_eq!(set.verify_compact(&forged), Err(JwsError::BadSignature));
        assert!(matches!(
            JwkSet::default().verify_compact(&jws),
            Err(JwsError::UnknownKey(_))
        ));
        assert_eq!(set.verify_compact("a.b"), Err(JwsError::Malformed));
    }

    #[test]
    fn key_survives_pkcs8_round_trip_with_same_kid() {
        let k = ServiceSigningKey::generate().unwrap();
        let k2 = ServiceSigningKey::from_pkcs8(k.to_pkcs8()).unwrap();
        assert_eq!(k.kid(), k2.kid());
        assert!(!format!("{k:?}").contains("pkcs8"));
    }
}
