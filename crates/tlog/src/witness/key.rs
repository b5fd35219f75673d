//! The witness's cosigning key as a string, in the form of a signed-note signer key with
//! the cosignature type: `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || Ed25519 seed)>`.
//! The name travels with the key, so the key ID (which hashes the name) cannot drift from
//! it. It is a secret: kept zeroized, read from a 0600 file by the caller.

use crate::cosignature::Cosigner;
use crate::note::{NoteError, SIG_TYPE_COSIGNATURE_V1};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ironroot_crypto::{ed25519_seed, Ed25519SigningKey};
use zeroize::Zeroizing;

const PREFIX: &str = "PRIVATE+KEY+";
/// A key string longer than this is not one of ours (they are about 100 bytes).
pub const MAX_KEY_STRING: usize = 1024;

/// A new random cosigning key named `name`, and its key string (a secret).
pub fn generate(name: &str) -> Result<(Cosigner, Zeroizing<String>), NoteError> {
    let key = Ed25519SigningKey::generate().map_err(|_| NoteError::Signing)?;
    let seed = ed25519_seed::seed(&key).map_err(|_| NoteError::Signing)?;
    let cosigner = Cosigner::new(name, key)?;
    let mut blob = Zeroizing::new(vec![SIG_TYPE_COSIGNATURE_V1]);
    blob.extend_from_slice(seed.as_slice());
    let text = Zeroizing::new(format!(
        "{PREFIX}{name}+{:08x}+{}",
        cosigner.verifier_key().key_id,
        B64.encode(blob.as_slice())
    ));
    Ok((cosigner, text))
}

/// The cosigner a key string describes; its key ID must match its name and key.
pub fn parse(text: &str) -> Result<Cosigner, NoteError> {
    let bad = NoteError::BadSignerKey;
    if text.len() > MAX_KEY_STRING {
        return Err(bad("too long"));
    }
    let rest = text
        .strip_prefix(PREFIX)
        .ok_or(bad("missing PRIVATE+KEY+"))?;
    // At most three parts: the base64 key may itself contain '+'.
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(key), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("want PRIVATE+KEY+<name>+<key id>+<key>"));
    };
    let id_ok = id.len() == 8 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let id = u32::from_str_radix(id, 16)
        .ok()
        .filter(|_| id_ok)
        .ok_or(bad("key id is not 8 lowercase hex digits"))?;
    let decoded = Zeroizing::new(B64.decode(key).map_err(|_| bad("key is not base64"))?);
    let (&sig_type, seed) = decoded.split_first().ok_or(bad("empty key"))?;
    if sig_type != SIG_TYPE_COSIGNATURE_V1 {
        return Err(bad("not a cosignature (type 0x04) key"));
    }
    let key = ed25519_seed::from_seed(seed).map_err(|_| bad("Ed25519 seeds are 32 bytes"))?;
    let cosigner = Cosigner::new(name, key)?;
    if cosigner.verifier_key().key_id != id {
        return Err(bad("key id does not match the key"));
    }
    Ok(cosigner)
}
