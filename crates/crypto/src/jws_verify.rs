//! Verifying JWS signatures that someone else made (an OpenID Connect provider's ID tokens):
//! RS256 and ES256 only, with keys taken from a published JWK set.
//!
//! The algorithm is a closed enum, so `none`, the HMAC family (whose "public key" would be a
//! shared secret anyone who read the JWKS knows) and everything else cannot even be named, and a
//! key answers only for the algorithm of its own type: an RSA key never checks an ES256
//! signature and the other way round.

use crate::{CryptoError, EcCurve, EcPublicKey, HashAlg, RsaPublicKey};

/// The JWS algorithms ironroot accepts from others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, modulus of 2048 to 8192 bits.
    Rs256,
    /// ECDSA on P-256 with SHA-256, signature `r || s` (64 bytes).
    Es256,
}

impl JwsAlgorithm {
    /// The algorithm a JOSE header names, or `None` for every other name (`none`, `HS256`,
    /// `RS384`, `PS256`, a different case...).
    pub fn from_name(name: &str) -> Option<JwsAlgorithm> {
        match name {
            "RS256" => Some(JwsAlgorithm::Rs256),
            "ES256" => Some(JwsAlgorithm::Es256),
            _ => None,
        }
    }

    /// The name as JOSE writes it.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlgorithm::Rs256 => "RS256",
            JwsAlgorithm::Es256 => "ES256",
        }
    }
}

/// The smallest and largest RSA modulus accepted, as aws-lc-rs's verifier also enforces.
const MIN_RSA_BYTES: usize = 2048 / 8;
const MAX_RSA_BYTES: usize = 8192 / 8;
/// A public exponent wider than 32 bits is refused (RFC 8017 allows it; no provider uses it).
const MAX_EXPONENT_BYTES: usize = 4;
const P256_COORDINATE: usize = 32;

/// A public key able to check JWS signatures of exactly one [`JwsAlgorithm`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwsVerifyingKey {
    Rsa(RsaPublicKey),
    P256(EcPublicKey),
}

impl JwsVerifyingKey {
    /// An RSA key from a JWK's `n` and `e` (big-endian, already base64url-decoded).
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<JwsVerifyingKey, CryptoError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        if !(MIN_RSA_BYTES..=MAX_RSA_BYTES).contains(&n.len())
            || e.is_empty()
            || e.len() > MAX_EXPONENT_BYTES
            // An even exponent, or 1, is no RSA key.
            || e.last().is_some_and(|b| b & 1 == 0)
            || e == [1]
        {
            return Err(CryptoError::BadKey);
        }
        Ok(JwsVerifyingKey::Rsa(RsaPublicKey {
            n: n.to_vec(),
            e: e.to_vec(),
        }))
    }

    /// A P-256 key from a JWK's `x` and `y` (already base64url-decoded, 32 bytes each as
    /// RFC 7518 section 6.2.1.2 requires). Whether the point is on the curve is checked when
    /// verifying: an invalid point verifies nothing.
    pub fn p256(x: &[u8], y: &[u8]) -> Result<JwsVerifyingKey, CryptoError> {
        if x.len() != P256_COORDINATE || y.len() != P256_COORDINATE {
            return Err(CryptoError::BadKey);
        }
        Ok(JwsVerifyingKey::P256(EcPublicKey {
            curve: EcCurve::P256,
            x: x.to_vec(),
            y: y.to_vec(),
        }))
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> JwsAlgorithm {
        match self {
            JwsVerifyingKey::Rsa(_) => JwsAlgorithm::Rs256,
            JwsVerifyingKey::P256(_) => JwsAlgorithm::Es256,
        }
    }

    /// Checks `signature` over `signing_input` (the ASCII `header.payload` of a compact JWS)
    /// with `alg`; an algorithm that is not this key's is refused before any arithmetic.
    pub fn verify(
        &self,
        alg: JwsAlgorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        match (self, alg) {
            (JwsVerifyingKey::Rsa(k), JwsAlgorithm::Rs256) => {
                k.verify_pkcs1(HashAlg::Sha256, signing_input, signature)
            }
            (JwsVerifyingKey::P256(k), JwsAlgorithm::Es256) => {
                if signature.len() != 2 * P256_COORDINATE {
                    return Err(CryptoError::BadSignature);
                }
                let (r, s) = signature.split_at(P256_COORDINATE);
                k.verify_ecdsa(HashAlg::Sha256, signing_input, r, s)
            }
            _ => Err(CryptoError::Unsupported(
                "the JWS algorithm does not match the key",
            )),
        }
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[first..]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    };

    fn rsa_pair() -> (RsaKeyPair, JwsVerifyingKey) {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pk = pair.public_key();
        let key = JwsVerifyingKey::rsa(
            pk.modulus().big_endian_without_leading_zero(),
            pk.exponent().big_endian_without_leading_zero(),
        )
        .unwrap();
        (pair, key)
    }

    #[test]
    fn rs256_verifies_and_refuses_tampering_and_the_other_algorithm() {
        let (pair, key) = rsa_pair();
        let mut sig = vec![0u8; pair.public_modulus_len()];
        let rng = SystemRandom::new();
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            b"h.p",
            &mut sig,
        )
        .unwrap();
        assert_eq!(key.algorithm(), JwsAlgorithm::Rs256);
        key.verify(JwsAlgorithm::Rs256, b"h.p", &sig).unwrap();
        assert_eq!(
            key.verify(JwsAlgorithm::Rs256, b"h.q", &sig),
            Err(CryptoError::BadSignature)
        );
        assert!(matches!(
            key.verify(JwsAlgorithm::Es256, b"h.p", &sig),
            Err(CryptoError::Unsupported(_))
        ));
    }

    #[test]
    fn es256_verifies_fixed_signatures_only() {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let p = pair.public_key().as_ref();
        let key = JwsVerifyingKey::p256(&p[1..33], &p[33..65]).unwrap();
        let sig = pair.sign(&rng, b"h.p").unwrap();
        key.verify(JwsAlgorithm::Es256, b"h.p", sig.as_ref())
            .unwrap();
        assert_eq!(
            key.verify(JwsAlgorithm::Es256, b"h.x", sig.as_ref()),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            key.verify(JwsAlgorithm::Es256, b"h.p", &sig.as_ref()[..63]),
            Err(CryptoError::BadSignature)
        );
        assert!(matches!(
            key.verify(JwsAlgorithm::Rs256, b"h.p", sig.as_ref()),
            Err(CryptoError::Unsupported(_))
        ));
    }

    #[test]
    fn only_rs256_and_es256_have_names() {
        for bad in [
            "none", "None", "HS256", "HS512", "RS384", "PS256", "ES384", "rs256", "",
        ] {
            assert_eq!(JwsAlgorithm::from_name(bad), None, "{bad}");
        }
        for alg in [JwsAlgorithm::Rs256, JwsAlgorithm::Es256] {
            assert_eq!(JwsAlgorithm::from_name(alg.name()), Some(alg));
        }
    }

    #[test]
    fn weak_or_malformed_keys_are_refused() {
        let n1024 = [0xc5u8; 128];
        assert_eq!(
            JwsVerifyingKey::rsa(&n1024, &[1, 0, 1]),
            Err(CryptoError::BadKey)
        );
        let n2048 = [0xc5u8; 256];
        assert!(JwsVerifyingKey::rsa(&n2048, &[1, 0, 1]).is_ok());
        // Leading zeros do not make a short modulus long enough.
        let mut padded = vec![0u8; 200];
        padded.extend([0xc5u8; 100]);
        assert_eq!(
            JwsVerifyingKey::rsa(&padded, &[3]),
            Err(CryptoError::BadKey)
        );
        let exponents: [&[u8]; 4] = [&[], &[1], &[2], &[1, 0, 0, 0, 1]];
        for e in exponents {
            assert_eq!(
                JwsVerifyingKey::rsa(&n2048, e),
                Err(CryptoError::BadKey),
                "{e:?}"
            );
        }
        assert_eq!(
            JwsVerifyingKey::p256(&[1; 31], &[1; 32]),
            Err(CryptoError::BadKey)
        );
        // A point off the curve verifies nothing.
        let off = JwsVerifyingKey::p256(&[1; 32], &[2; 32]).unwrap();
        assert!(off.verify(JwsAlgorithm::Es256, b"x", &[1; 64]).is_err());
    }
}
