//! Ed25519 signing keys and verification, for OpenPGP image signatures.

use crate::CryptoError;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self as sig, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

/// Length of an Ed25519 public key and of its private seed.
pub const ED25519_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature (R || S).
pub const ED25519_SIGNATURE_LEN: usize = 64;

/// An Ed25519 private key. Its `Debug` output never shows key material.
pub struct Ed25519SigningKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Ed25519SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ed25519SigningKey({:02x?})", self.public_key())
    }
}

impl Ed25519SigningKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::Random)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a PKCS#8 (v1 or v2) Ed25519 private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(der))
            .map_err(|_| CryptoError::BadKey)?;
        Ok(Ed25519SigningKey { pair })
    }

    /// The key as PKCS#8 v1 DER, the only way it leaves this type.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let der = self.pair.to_pkcs8v1().map_err(|_| CryptoError::BadKey)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; ED25519_KEY_LEN] {
        let mut out = [0u8; ED25519_KEY_LEN];
        let public = self.pair.public_key().as_ref();
        if public.len() == ED25519_KEY_LEN {
            out.copy_from_slice(public);
        }
        out
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> Result<Vec<u8>, CryptoError> {
        let der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::BadKey)?;
        Ok(der.as_ref().to_vec())
    }

    /// Signs `message` (pure Ed25519: the message itself, not a prehash).
    pub fn sign(&self, message: &[u8]) -> [u8; ED25519_SIGNATURE_LEN] {
        let mut out = [0u8; ED25519_SIGNATURE_LEN];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }
}

/// Verifies a pure Ed25519 signature under a 32-byte public key.
pub fn ed25519_verify(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    if public_key.len() != ED25519_KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    if signature.len() != ED25519_SIGNATURE_LEN {
        return Err(CryptoError::BadSignature);
    }
    UnparsedPublicKey::new(&sig::ED25519, public_key)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let key = Ed25519SigningKey::generate().unwrap();
        let s = key.sign(b"payload");
        ed25519_verify(&key.public_key(), b"payload", &s).unwrap();
        assert_eq!(
            ed25519_verify(&key.public_key(), b"Payload", &s),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            ed25519_verify(&key.public_key()[..31], b"payload", &s),
            Err(CryptoError::BadKey)
        );
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_key() {
        let key = Ed25519SigningKey::generate().unwrap();
        let again = Ed25519SigningKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(key.public_key_spki().unwrap().len(), 44);
        assert!(Ed25519SigningKey::from_pkcs8(b"junk").is_err());
    }

    #[test]
    fn rfc8032_test_1_verifies() {
        let public = [
            0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
            0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
            0xf7, 0x07, 0x51, 0x1a,
        ];
        let signature = [
            0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e,
            0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65,
            0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e,
            0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24,
            0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
        ];
        ed25519_verify(&public, b"", &signature).unwrap();
    }
}
