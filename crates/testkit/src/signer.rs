//! The only signing a TPM does that this crate imitates: RSASSA-PKCS1-v1_5 (RSA-2048,
//! SHA-256) and ECDSA (P-256, SHA-256), with aws-lc-rs.

use crate::FixtureError;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};

pub(crate) enum SigningKey {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
}

impl SigningKey {
    pub fn generate_rsa2048() -> Result<Self, FixtureError> {
        RsaKeyPair::generate(KeySize::Rsa2048)
            .map(SigningKey::Rsa)
            .map_err(|_| FixtureError::Key)
    }

    pub fn generate_p256() -> Result<Self, FixtureError> {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map(SigningKey::P256)
            .map_err(|_| FixtureError::Key)
    }

    /// The RSA modulus (big-endian, no leading zero), for TPMT_PUBLIC's unique field.
    pub fn rsa_modulus(&self) -> Option<Vec<u8>> {
        match self {
            SigningKey::Rsa(k) => Some(
                k.public_key()
                    .modulus()
                    .big_endian_without_leading_zero()
                    .to_vec(),
            ),
            SigningKey::P256(_) => None,
        }
    }

    /// The P-256 point's x and y coordinates (32 bytes each).
    pub fn p256_point(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match self {
            SigningKey::P256(k) => {
                let sec1 = k.public_key().as_ref();
                (sec1.len() == 65).then(|| (sec1[1..33].to_vec(), sec1[33..].to_vec()))
            }
            SigningKey::Rsa(_) => None,
        }
    }

    /// Signs `message` with SHA-256: the RSA signature, or ECDSA's fixed `r || s`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, FixtureError> {
        let rng = SystemRandom::new();
        match self {
            SigningKey::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| FixtureError::Key)?;
                Ok(sig)
            }
            SigningKey::P256(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| FixtureError::Key),
        }
    }
}
