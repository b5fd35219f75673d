//! Envelope encryption of key material at rest: each key is sealed with AES-256-GCM
//! under the broker's master key, its key id as associated data (so a sealed blob moved
//! to another key's row does not open). Sealed blobs are `iv (12) || ciphertext || tag (16)`
//! whichever backend holds the master key:
//!
//! - [`file`]: a 32-byte file, created once with mode 0600 (`--broker-master-key`,
//!   default `broker-master.key` in the data directory); replicas must share it, as they
//!   share the report-signing key.
//! - [`pkcs11`]: an AES-256 secret key object inside a PKCS#11 token (an HSM), found by
//!   label; sealing and opening run inside the token, so the key never reaches this
//!   process. Replicas share it by pointing at the same token.
//!
//! This module must never log or return a PIN or key bytes.

mod file;
mod hsm_object;
mod pkcs11;

pub use pkcs11::Pkcs11Config;

use zeroize::Zeroizing;

pub(crate) const IV: usize = 12;
pub(crate) const TAG: usize = 16;

/// The broker's master key, in a file or in an HSM.
pub struct MasterKey(Backend);

enum Backend {
    File(file::FileKey),
    Pkcs11(pkcs11::HsmKey),
}

/// Why the master key could not be loaded. Messages name what to fix; none carries a PIN.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeyError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("cannot load the PKCS#11 module {module}: {reason}")]
    Module { module: String, reason: String },
    #[error("no PKCS#11 token is labeled {label:?}; tokens found: {}", list_or_none(.found))]
    TokenNotFound { label: String, found: Vec<String> },
    #[error("{count} PKCS#11 tokens are labeled {label:?}: give each token a distinct label")]
    TokenAmbiguous { label: String, count: usize },
    #[error("PIN file {path}: {reason}")]
    PinFile { path: String, reason: String },
    #[error(
        "the PIN in {pin_file} was refused by token {token:?} (wrong PIN, or the PIN is locked)"
    )]
    WrongPin { token: String, pin_file: String },
    #[error(
        "{count} secret keys are labeled {label:?} in token {token:?} (CKA_ID {ids}); the broker \
         cannot tell which one sealed its keys. This happens when replicas start together for \
         the first time: keep the one that opens the stored keys and delete the others \
         (pkcs11-tool --delete-object --type secrkey --id ID)"
    )]
    KeyAmbiguous {
        label: String,
        token: String,
        count: usize,
        ids: String,
    },
    #[error("PKCS#11 token {token:?}: {reason}")]
    Token { token: String, reason: String },
}

fn list_or_none(found: &[String]) -> String {
    if found.is_empty() {
        "none (is the token initialized, and is the module's configuration the one you meant?)"
            .into()
    } else {
        found
            .iter()
            .map(|l| format!("{l:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl MasterKey {
    /// Loads the master key file at `path`, creating it (atomically, once) if it is missing.
    pub fn load_or_create(path: &std::path::Path) -> Result<MasterKey, MasterKeyError> {
        file::FileKey::load_or_create(path).map(|k| MasterKey(Backend::File(k)))
    }

    /// Opens the token named in `config`, logs in, and finds (or creates, once) the key.
    pub fn open_pkcs11(config: &Pkcs11Config) -> Result<MasterKey, MasterKeyError> {
        pkcs11::HsmKey::load(config).map(|k| MasterKey(Backend::Pkcs11(k)))
    }

    /// `iv || ciphertext || tag`, with `key_id` as associated data.
    pub fn seal(&self, key_id: &str, material: &[u8]) -> Result<Vec<u8>, String> {
        match &self.0 {
            Backend::File(k) => k.seal(key_id, material),
            Backend::Pkcs11(k) => k.seal(key_id, material),
        }
    }

    /// Opens what [`MasterKey::seal`] made for the same `key_id`.
    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        if sealed.len() < IV + TAG {
            return Err("sealed key too short".into());
        }
        match &self.0 {
            Backend::File(k) => k.open(key_id, sealed),
            Backend::Pkcs11(k) => k.open(key_id, sealed),
        }
    }
}

/// The message for a blob that fails authentication, the same for both backends.
pub(crate) const DOES_NOT_OPEN: &str = "the sealed key does not open under this master key";
