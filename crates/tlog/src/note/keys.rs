//! Key IDs and key strings of signed notes, and the Ed25519 note signer and verifier.
//!
//! Verifier key: `<name>+<8 hex digits of the key ID>+<base64(type || public key)>`.
//! Signer key: `PRIVATE+KEY+<name>+<key ID>+<base64(type || Ed25519 seed)>`, the form
//! golang.org/x/mod/sumdb/note reads and writes; it is a secret, kept zeroized here.

use super::{check_key_name, NoteError, NoteVerifier, Signature};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ironroot_crypto::{ed25519_seed, ed25519_verify, Ed25519SigningKey, HashAlg, Hasher};
use ironroot_crypto::{ED25519_KEY_LEN, ED25519_SIGNATURE_LEN};
use zeroize::Zeroizing;

/// Signature type of Ed25519 note signatures (signed-note "Signature types").
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature).
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

const SIGNER_PREFIX: &str = "PRIVATE+KEY+";
/// A key string longer than this is not one of ours (Ed25519 strings are well under it).
const MAX_KEY_STRING: usize = 1024;

/// `key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]`, big-endian
/// (signed-note "Signatures"; tlog-cosignature "Format" for type 0x04).
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Hasher::new(HashAlg::Sha256);
    hasher
        .update(name.as_bytes())
        .update(b"\n")
        .update(&[sig_type])
        .update(public_key);
    let digest = hasher.finish();
    let mut id = [0u8; 4];
    if let Some(first) = digest.get(..4) {
        id.copy_from_slice(first);
    }
    u32::from_be_bytes(id)
}

/// A parsed verifier key string, its key ID checked against name, type and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_id: u32,
    pub sig_type: u8,
    pub public_key: Vec<u8>,
}

impl VerifierKey {
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let bad = NoteError::BadVerifierKey;
        if text.len() > MAX_KEY_STRING {
            return Err(bad("too long"));
        }
        // At most three parts: the base64 key may itself contain '+'.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("want <name>+<key id>+<key>"));
        };
        check_key_name(name)?;
        let key_id = parse_key_id(id).ok_or(bad("key id is not 8 lowercase hex digits"))?;
        let decoded = B64.decode(key).map_err(|_| bad("key is not base64"))?;
        let (&sig_type, public_key) = decoded.split_first().ok_or(bad("empty key"))?;
        if key_id != self::key_id(name, sig_type, public_key) {
            return Err(bad("key id does not match the key"));
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id,
            sig_type,
            public_key: public_key.to_vec(),
        })
    }

    /// The string form: `<name>+<key id>+<base64(type || key)>`.
    pub fn to_text(&self) -> String {
        let mut blob = vec![self.sig_type];
        blob.extend_from_slice(&self.public_key);
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(blob))
    }

    /// The verifier key of an Ed25519 public key for signature type `sig_type`.
    pub fn ed25519(
        name: &str,
        sig_type: u8,
        public_key: &[u8; ED25519_KEY_LEN],
    ) -> Result<VerifierKey, NoteError> {
        check_key_name(name)?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, sig_type, public_key),
            sig_type,
            public_key: public_key.to_vec(),
        })
    }

    /// The 32-byte Ed25519 key, if this key has type `sig_type` and that length.
    pub(crate) fn ed25519_key(&self, sig_type: u8) -> Result<[u8; ED25519_KEY_LEN], NoteError> {
        if self.sig_type != sig_type {
            return Err(NoteError::BadVerifierKey("unexpected signature type"));
        }
        <[u8; ED25519_KEY_LEN]>::try_from(self.public_key.as_slice())
            .map_err(|_| NoteError::BadVerifierKey("Ed25519 keys are 32 bytes"))
    }
}

/// Exactly eight lowercase hex digits, as the Go implementation writes them.
fn parse_key_id(text: &str) -> Option<u32> {
    let ok = text.len() == 8
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Checks Ed25519 note signatures (type 0x01) of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519NoteVerifier {
    name: String,
    key_id: u32,
    public_key: [u8; ED25519_KEY_LEN],
}

impl Ed25519NoteVerifier {
    /// From a verifier key string of type 0x01.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        Self::from_key(&VerifierKey::parse(text)?)
    }

    pub fn from_key(key: &VerifierKey) -> Result<Self, NoteError> {
        Ok(Ed25519NoteVerifier {
            public_key: key.ed25519_key(SIG_TYPE_ED25519)?,
            name: key.name.clone(),
            key_id: key.key_id,
        })
    }
}

impl NoteVerifier for Ed25519NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        signature.len() == ED25519_SIGNATURE_LEN
            && ed25519_verify(&self.public_key, text, signature).is_ok()
    }
}

/// Signs notes with an Ed25519 key (type 0x01): the log's checkpoint signer.
#[derive(Debug)]
pub struct Ed25519NoteSigner {
    name: String,
    key_id: u32,
    key: Ed25519SigningKey,
}

impl Ed25519NoteSigner {
    pub fn new(name: &str, key: Ed25519SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Ed25519NoteSigner {
            key_id: key_id(name, SIG_TYPE_ED25519, &key.public_key()),
            name: name.to_owned(),
            key,
        })
    }

    pub fn generate(name: &str) -> Result<Self, NoteError> {
        Self::new(
            name,
            Ed25519SigningKey::generate().map_err(|_| NoteError::Signing)?,
        )
    }

    /// From a signer key string `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = NoteError::BadSignerKey;
        if text.len() > MAX_KEY_STRING {
            return Err(bad("too long"));
        }
        let rest = text
            .strip_prefix(SIGNER_PREFIX)
            .ok_or(bad("missing PRIVATE+KEY+"))?;
        // At most three parts: the base64 key may itself contain '+'.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("want PRIVATE+KEY+<name>+<key id>+<key>"));
        };
        let id = parse_key_id(id).ok_or(bad("key id is not 8 lowercase hex digits"))?;
        let decoded = Zeroizing::new(B64.decode(key).map_err(|_| bad("key is not base64"))?);
        let (&sig_type, seed) = decoded.split_first().ok_or(bad("empty key"))?;
        if sig_type != SIG_TYPE_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let key = ed25519_seed::from_seed(seed).map_err(|_| bad("Ed25519 seeds are 32 bytes"))?;
        let signer = Self::new(name, key)?;
        if signer.key_id != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(signer)
    }

    /// The signer key string: a secret.
    pub fn to_signer_key(&self) -> Result<Zeroizing<String>, NoteError> {
        let seed = ed25519_seed::seed(&self.key).map_err(|_| NoteError::Signing)?;
        let mut blob = Zeroizing::new(vec![SIG_TYPE_ED25519]);
        blob.extend_from_slice(seed.as_slice());
        Ok(Zeroizing::new(format!(
            "{SIGNER_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(blob.as_slice())
        )))
    }

    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_ED25519,
            public_key: self.key.public_key().to_vec(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature line's content for `text` (a note text, ending in a newline).
    pub fn sign(&self, text: &str) -> Signature {
        Signature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_vec(),
        }
    }
}
