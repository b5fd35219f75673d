//! The one module of ironroot that owns cryptography.
//!
//! Every other crate asks this one for digests, MACs, signatures, key agreement and
//! encryption; none of them names an algorithm implementation. The provider is aws-lc-rs,
//! the same one rustls uses, so the whole process has a single crypto stack. Formats that
//! demand what aws-lc-rs lacks get RustCrypto crates here and nowhere else: scrypt and
//! secretbox for cosign keys (`password_box`), crypt(3) hashes of etc/shadow (`unix_crypt`).
//! X.509 signatures are checked here too (`verify_x509_signature`), so no X.509 parser needs
//! a crypto backend of its own (x509-parser's `verify` would link ring).
//!
//! This crate must never do I/O, never log key material, and never expose a way to
//! skip a check: every `verify_*` returns an error unless the signature is good.

mod aead;
mod cipher;
mod ctr;
mod digest;
mod ec;
mod ec_private;
mod ecdsa_signing;
mod ed25519;
pub mod ed25519_seed;
mod jws;
mod jws_verify;
mod kdf;
mod keywrap;
mod password_box;
mod rsa;
mod rsa_private;
pub mod unix_crypt;
mod x509_signature;

pub use aead::{aes_gcm_open, aes_gcm_seal, GcmSealed};
pub use cipher::{aes_cfb_decrypt, aes_cfb_encrypt};
pub use ctr::Aes256Ctr;
pub use digest::{digest, hmac, hmac_verify, HashAlg, Hasher, HmacStream};
pub use ec::{ecdh_ephemeral, EcCurve, EcPublicKey, EphemeralAgreement};
pub use ec_private::EcPrivateKey;
pub use ecdsa_signing::EcdsaP256SigningKey;
pub use ed25519::{ed25519_verify, Ed25519SigningKey, ED25519_KEY_LEN, ED25519_SIGNATURE_LEN};
pub use jws::{Jwk, JwkSet, JwsError, ServiceSigningKey};
pub use jws_verify::{JwsAlgorithm, JwsVerifyingKey};
pub use kdf::concat_kdf_sha256;
pub use keywrap::{aes_key_unwrap, aes_key_wrap};
pub use password_box::{
    password_box_open, password_box_seal, PasswordBox, ScryptParams, PASSWORD_BOX_NONCE_LEN,
    PASSWORD_BOX_SALT_LEN,
};
pub use rsa::RsaPublicKey;
pub use rsa_private::{is_rsa_spki, rsa_oaep_encrypt_spki, RsaPrivateKey};
pub use x509_signature::{verify_x509_signature, X509PublicKey};

/// Errors from cryptographic operations. They never say more than which operation failed,
/// so they are safe to show to a remote caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed or unsupported public key")]
    BadKey,
    #[error("unsupported algorithm combination: {0}")]
    Unsupported(&'static str),
    #[error("encryption failed")]
    Encrypt,
    /// Decryption or its authentication check failed; deliberately says no more.
    #[error("decryption failed")]
    Decrypt,
    #[error("the system random generator failed")]
    Random,
}

/// Fills a fresh buffer with `n` bytes from the system's secure random generator.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}
