//! The issuer's JSON Web Key Set (RFC 7517), reduced to the keys this verifier can use:
//! RSA (RS256) and EC P-256 (ES256) signing keys. Keys of other types, curves, uses or
//! algorithms are left out, as a provider may publish them for others; a set that keeps
//! none, or two usable keys with one id, is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ironroot_crypto::{JwsAlgorithm, JwsVerifyingKey};

/// The largest key set document accepted, in bytes (a set of a few RSA-4096 keys is 5 KiB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The most keys read from a set.
const MAX_KEYS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    #[error("the key set is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("the key set is not a JSON object with a \"keys\" array")]
    Malformed,
    #[error("the key set has more than {MAX_KEYS} keys")]
    TooManyKeys,
    #[error("the key set has no RS256 or ES256 signing key")]
    NoUsableKey,
    #[error("the key set has two keys with the id {0:?}")]
    DuplicateKeyId(String),
}

/// One key as a JWK describes it; only the members read here.
#[derive(serde::Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(serde::Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

/// The usable keys of an issuer, each with its id (if the issuer gave one).
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<(Option<String>, JwsVerifyingKey)>,
}

impl KeySet {
    /// Parses a JWKS document.
    pub fn from_json(bytes: &[u8]) -> Result<KeySet, JwksError> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge {
                len: bytes.len(),
                max: MAX_JWKS_BYTES,
            });
        }
        let doc: Document = serde_json::from_slice(bytes).map_err(|_| JwksError::Malformed)?;
        if doc.keys.len() > MAX_KEYS {
            return Err(JwksError::TooManyKeys);
        }
        let mut keys: Vec<(Option<String>, JwsVerifyingKey)> = Vec::new();
        for value in doc.keys {
            // A member this verifier cannot read makes that key unusable, not the set.
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            let Some(key) = usable(&jwk) else { continue };
            if let Some(kid) = &jwk.kid {
                if keys.iter().any(|(k, _)| k.as_ref() == Some(kid)) {
                    return Err(JwksError::DuplicateKeyId(kid.clone()));
                }
            }
            keys.push((jwk.kid, key));
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(KeySet { keys })
    }

    /// The key that checks a token signed with `alg` under `kid`. Without a `kid`, only a
    /// set holding exactly one key for `alg` answers: guessing among several would let the
    /// token choose.
    pub fn find(&self, kid: Option<&str>, alg: JwsAlgorithm) -> Option<&JwsVerifyingKey> {
        let mut fitting = self
            .keys
            .iter()
            .filter(|(_, k)| k.algorithm() == alg)
            .filter(|(id, _)| kid.is_none() || id.as_deref() == kid)
            .map(|(_, k)| k);
        let first = fitting.next()?;
        match (kid, fitting.next()) {
            (None, Some(_)) => None,
            _ => Some(first),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A set holding `keys` (tests build them from generated keys).
    pub fn from_keys(keys: Vec<(Option<String>, JwsVerifyingKey)>) -> KeySet {
        KeySet { keys }
    }
}

fn usable(jwk: &Jwk) -> Option<JwsVerifyingKey> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => JwsVerifyingKey::rsa(&decode(&jwk.n)?, &decode(&jwk.e)?).ok()?,
        ("EC", Some("P-256")) => JwsVerifyingKey::p256(&decode(&jwk.x)?, &decode(&jwk.y)?).ok()?,
        _ => return None,
    };
    // A key published for another algorithm (RS512, PS256...) is not used for this one.
    match &jwk.alg {
        Some(alg) if JwsAlgorithm::from_name(alg) != Some(key.algorithm()) => None,
        _ => Some(key),
    }
}

fn decode(v: &Option<String>) -> Option<Vec<u8>> {
    B64.decode(v.as_deref()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_jwk(kid: &str, alg: &str) -> String {
        // A 2048-bit modulus-sized value: shape only, these tests do not verify signatures.
        let n = B64.encode([0xc5u8; 256]);
        format!(r#"{{"kty":"RSA","kid":"{kid}","use":"sig","alg":"{alg}","n":"{n}","e":"AQAB"}}"#)
    }

    fn ec_jwk(kid: &str) -> String {
        let c = B64.encode([7u8; 32]);
        format!(r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{c}","y":"{c}"}}"#)
    }

    #[test]
    fn usable_keys_are_kept_and_others_left_out() {
        let doc = format!(
            r#"{{"keys":[{},{},{},{{"kty":"OKP","crv":"Ed25519","x":"AA"}},{{"kty":"oct","k":"c2VjcmV0"}},{},{{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}},{{"kty":"RSA","n":"!!","e":"AQAB"}},{{"kty":"RSA","kid":"enc","use":"enc","n":"AA","e":"AQAB"}}]}}"#,
            rsa_jwk("r1", "RS256"),
            ec_jwk("e1"),
            rsa_jwk("r2", "RS512"),
            rsa_jwk("r3", "RS256"),
        );
        let set = KeySet::from_json(doc.as_bytes()).unwrap();
        assert_eq!(set.len(), 3);
        assert!(set.find(Some("r1"), JwsAlgorithm::Rs256).is_some());
        assert!(set.find(Some("e1"), JwsAlgorithm::Es256).is_some());
        // The RSA key r1 never answers for ES256, nor r2 (published for RS512) at all.
        assert!(set.find(Some("r1"), JwsAlgorithm::Es256).is_none());
        assert!(set.find(Some("r2"), JwsAlgorithm::Rs256).is_none());
        assert!(set.find(Some("nope"), JwsAlgorithm::Rs256).is_none());
        // No kid: one EC key answers, two RSA keys are ambiguous.
        assert!(set.find(None, JwsAlgorithm::Es256).is_some());
        assert!(set.find(None, JwsAlgorithm::Rs256).is_none());
    }

    #[test]
    fn bad_sets_are_refused() {
        assert_eq!(KeySet::from_json(b"[]").unwrap_err(), JwksError::Malformed);
        assert_eq!(
            KeySet::from_json(br#"{"keys":{}}"#).unwrap_err(),
            JwksError::Malformed
        );
        assert_eq!(
            KeySet::from_json(br#"{"keys":[]}"#).unwrap_err(),
            JwksError::NoUsableKey
        );
        let only_hmac = br#"{"keys":[{"kty":"oct","alg":"HS256","k":"c2VjcmV0"}]}"#;
        assert_eq!(
            KeySet::from_json(only_hmac).unwrap_err(),
            JwksError::NoUsableKey
        );
        let dup = format!(r#"{{"keys":[{},{}]}}"#, rsa_jwk("k", "RS256"), ec_jwk("k"));
        assert_eq!(
            KeySet::from_json(dup.as_bytes()).unwrap_err(),
            JwksError::DuplicateKeyId("k".into())
        );
        let many = format!(
            r#"{{"keys":[{}]}}"#,
            vec![ec_jwk("x"); MAX_KEYS + 1].join(",")
        );
        assert_eq!(
            KeySet::from_json(many.as_bytes()).unwrap_err(),
            JwksError::TooManyKeys
        );
        let big = vec![b' '; MAX_JWKS_BYTES + 1];
        assert!(matches!(
            KeySet::from_json(&big),
            Err(JwksError::TooLarge { .. })
        ));
    }
}
