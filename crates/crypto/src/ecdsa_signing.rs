//! ECDSA P-256 signing keys (SHA-256, ASN.1 DER signatures), as cosign uses them.
//! Verification lives on [`EcPublicKey::verify_ecdsa_der`].

use crate::{CryptoError, EcCurve, EcPublicKey};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use zeroize::Zeroizing;

/// A P-256 private key for ECDSA with SHA-256. Its `Debug` output never shows key material.
pub struct EcdsaP256SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for EcdsaP256SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcdsaP256SigningKey")
    }
}

impl EcdsaP256SigningKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| CryptoError::Random)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a PKCS#8 `PrivateKeyInfo` holding a P-256 key; any other curve is refused.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .map_err(|_| CryptoError::BadKey)?;
        Ok(EcdsaP256SigningKey {
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    }

    /// The PKCS#8 DER this key was made from or generated as.
    pub fn to_pkcs8(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }

    pub fn public_key(&self) -> Result<EcPublicKey, CryptoError> {
        EcPublicKey::from_sec1(EcCurve::P256, self.pair.public_key().as_ref())
    }

    /// Signs SHA-256(`message`); the signature is ASN.1 DER `ECDSA-Sig-Value`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let s = self
            .pair
            .sign(&rng, message)
            .map_err(|_| CryptoError::Unsupported("ECDSA signing failed"))?;
        Ok(s.as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EcPrivateKey, HashAlg};

    #[test]
    fn sign_verifies_with_existing_public_key_type() {
        let key = EcdsaP256SigningKey::generate().unwrap();
        let public = key.public_key().unwrap();
        let s = key.sign(b"payload").unwrap();
        public
            .verify_ecdsa_der(HashAlg::Sha256, b"payload", &s)
            .unwrap();
        assert!(public
            .verify_ecdsa_der(HashAlg::Sha256, b"payloaD", &s)
            .is_err());
        let again = EcdsaP256SigningKey::from_pkcs8(&key.to_pkcs8()).unwrap();
        assert_eq!(again.public_key().unwrap(), public);
    }

    #[test]
    fn p384_key_is_refused() {
        let other = EcPrivateKey::generate(EcCurve::P384).unwrap();
        assert_eq!(
            EcdsaP256SigningKey::from_pkcs8(&other.to_pkcs8().unwrap()).unwrap_err(),
            CryptoError::BadKey
        );
    }
}
