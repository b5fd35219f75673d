//! JWE (RFC 7516) recipients, as ocicrypt's `jwe` key wrapper writes them with go-jose:
//! the private-options JSON encrypted with AES-GCM under a random content key, which is
//! wrapped for each recipient with RSA-OAEP or ECDH-ES+AES-KW. Output is go-jose's
//! `FullSerialize` JSON: flattened with every header protected for one recipient, and the
//! general form (shared `enc` protected, `alg`/`epk` per recipient) for several.

mod keys;
mod unwrap;
mod wrap;

pub use keys::{JwePrivateKey, JwePublicKey};
pub use unwrap::jwe_unwrap;
pub use wrap::jwe_wrap;

use ironroot_crypto::CryptoError;

/// Largest JWE accepted for unwrapping (the annotation limit).
pub const MAX_JWE_LEN: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JweError {
    #[error("JWE is larger than {MAX_JWE_LEN} bytes")]
    TooLarge,
    #[error("malformed JWE: {0}")]
    Malformed(&'static str),
    #[error("unsupported JWE {0}")]
    Unsupported(String),
    #[error("no given key can decrypt the JWE")]
    NoMatchingKey,
    #[error("key is not a usable PEM or DER RSA or EC (P-256, P-384) key")]
    BadKey,
    #[error("key algorithm {0:?} does not fit the key type")]
    AlgorithmMismatch(JweAlg),
    #[error("no recipients given")]
    NoRecipients,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Key-management algorithms ocicrypt accepts (`alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JweAlg {
    /// RSAES-OAEP with SHA-1, what ocicrypt writes for RSA keys.
    RsaOaep,
    RsaOaep256,
    EcdhEsA128Kw,
    /// Recognised, but aws-lc-rs has no AES-192 key wrap, so it cannot be used.
    EcdhEsA192Kw,
    /// What ocicrypt writes for EC keys.
    EcdhEsA256Kw,
}

impl JweAlg {
    pub fn name(self) -> &'static str {
        match self {
            JweAlg::RsaOaep => "RSA-OAEP",
            JweAlg::RsaOaep256 => "RSA-OAEP-256",
            JweAlg::EcdhEsA128Kw => "ECDH-ES+A128KW",
            JweAlg::EcdhEsA192Kw => "ECDH-ES+A192KW",
            JweAlg::EcdhEsA256Kw => "ECDH-ES+A256KW",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [
            JweAlg::RsaOaep,
            JweAlg::RsaOaep256,
            JweAlg::EcdhEsA128Kw,
            JweAlg::EcdhEsA192Kw,
            JweAlg::EcdhEsA256Kw,
        ]
        .into_iter()
        .find(|a| a.name() == s)
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, JweAlg::RsaOaep | JweAlg::RsaOaep256)
    }

    /// Length of the AES key-wrap key that ECDH-ES derives, or `None` for RSA.
    fn kw_key_len(self) -> Option<usize> {
        match self {
            JweAlg::RsaOaep | JweAlg::RsaOaep256 => None,
            JweAlg::EcdhEsA128Kw => Some(16),
            JweAlg::EcdhEsA192Kw => Some(24),
            JweAlg::EcdhEsA256Kw => Some(32),
        }
    }
}

/// Content-encryption algorithms (`enc`): AES-GCM, which is what ocicrypt writes. The
/// AES-CBC-HMAC family of RFC 7518 5.2 is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JweEnc {
    A128Gcm,
    A192Gcm,
    A256Gcm,
}

impl JweEnc {
    pub fn name(self) -> &'static str {
        match self {
            JweEnc::A128Gcm => "A128GCM",
            JweEnc::A192Gcm => "A192GCM",
            JweEnc::A256Gcm => "A256GCM",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [JweEnc::A128Gcm, JweEnc::A192Gcm, JweEnc::A256Gcm]
            .into_iter()
            .find(|e| e.name() == s)
    }

    pub fn key_len(self) -> usize {
        match self {
            JweEnc::A128Gcm => 16,
            JweEnc::A192Gcm => 24,
            JweEnc::A256Gcm => 32,
        }
    }
}

/// RFC 7518 4.6.2 OtherInfo for ECDH-ES in key-agreement-with-key-wrapping mode:
/// AlgorithmID is the `alg` value, each datum length-prefixed, then the key length in
/// bits. SuppPrivInfo is empty.
fn concat_kdf_other_info(alg: &str, apu: &[u8], apv: &[u8], key_len: usize) -> Vec<u8> {
    let mut info = Vec::new();
    for part in [alg.as_bytes(), apu, apv] {
        info.extend_from_slice(&(part.len() as u32).to_be_bytes());
        info.extend_from_slice(part);
    }
    info.extend_from_slice(&((key_len * 8) as u32).to_be_bytes());
    info
}

#[cfg(test)]
mod tests;
