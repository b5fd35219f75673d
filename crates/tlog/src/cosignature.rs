//! C2SP tlog-cosignature, the Ed25519 "cosignature/v1" type (signature type 0x04): a
//! witness's timestamped statement that a checkpoint is the largest consistent tree head it
//! has seen for that log.
//!
//! Signed message (tlog-cosignature "Ed25519 signed message"):
//! `cosignature/v1\ntime <POSIX seconds, decimal>\n` followed by the whole checkpoint note
//! text, extension lines included. The signature bytes after the key ID are the
//! `timestamped_signature` struct: the timestamp as a big-endian u64, then the 64-byte
//! Ed25519 signature. The key ID is `SHA-256(name || "\n" || 0x04 || public key)[:4]`.

use crate::note::{
    check_key_name, key_id, NoteError, NoteVerifier, Signature, VerifierKey,
    SIG_TYPE_COSIGNATURE_V1,
};
use ironroot_crypto::{ed25519_verify, Ed25519SigningKey, ED25519_KEY_LEN, ED25519_SIGNATURE_LEN};

/// "It MUST NOT exceed 2^63 - 1".
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;
const TIMESTAMPED_LEN: usize = 8 + ED25519_SIGNATURE_LEN;

/// The message a v1 cosignature signs.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// The timestamp of a cosignature line, if it has the v1 shape (72 bytes after the key ID
/// and a timestamp within range). Only meaningful once the note verified it.
pub fn timestamp(signature: &Signature) -> Option<u64> {
    if signature.signature.len() != TIMESTAMPED_LEN {
        return None;
    }
    let (time, _) = signature.signature.split_first_chunk::<8>()?;
    Some(u64::from_be_bytes(*time)).filter(|t| *t <= MAX_TIMESTAMP)
}

/// A witness's cosigning key.
#[derive(Debug)]
pub struct Cosigner {
    name: String,
    key_id: u32,
    key: Ed25519SigningKey,
}

impl Cosigner {
    pub fn new(name: &str, key: Ed25519SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Cosigner {
            key_id: key_id(name, SIG_TYPE_COSIGNATURE_V1, &key.public_key()),
            name: name.to_owned(),
            key,
        })
    }

    /// The verifier key (type 0x04) clients configure for this witness.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_COSIGNATURE_V1,
            public_key: self.key.public_key().to_vec(),
        }
    }

    /// Cosigns the checkpoint note text at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> Result<Signature, NoteError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(NoteError::Signing);
        }
        let sig = self
            .key
            .sign(signed_message(checkpoint_text, timestamp).as_bytes());
        let mut signature = Vec::with_capacity(TIMESTAMPED_LEN);
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(&sig);
        Ok(Signature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        })
    }
}

/// Checks one witness's v1 cosignatures, as a [`NoteVerifier`] for [`crate::note::Note::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    public_key: [u8; ED25519_KEY_LEN],
}

impl CosignatureVerifier {
    /// From a verifier key string of type 0x04.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        Self::from_key(&VerifierKey::parse(text)?)
    }

    pub fn from_key(key: &VerifierKey) -> Result<Self, NoteError> {
        Ok(CosignatureVerifier {
            public_key: key.ed25519_key(SIG_TYPE_COSIGNATURE_V1)?,
            name: key.name.clone(),
            key_id: key.key_id,
        })
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        let Some((time, sig)) = signature.split_first_chunk::<8>() else {
            return false;
        };
        let timestamp = u64::from_be_bytes(*time);
        let Ok(text) = std::str::from_utf8(text) else {
            return false;
        };
        sig.len() == ED25519_SIGNATURE_LEN
            && timestamp <= MAX_TIMESTAMP
            && ed25519_verify(
                &self.public_key,
                signed_message(text, timestamp).as_bytes(),
                sig,
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests;
