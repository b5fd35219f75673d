//! C2SP signed notes (c2sp.org/signed-note, v1.0.0): a text ending in a newline, a blank
//! line, then one or more lines `— <key name> <base64(key ID || signature)>` (em dash
//! U+2014, space, name, space, base64, newline).
//!
//! Notes arrive from the network and from bundles, so [`Note::parse`] checks the syntax
//! under limits and [`Note::verify`] applies the spec's rules: unknown keys are ignored, a
//! known key's bad signature rejects the whole note, and at least one known key must sign.
//! Only a [`VerifiedNote`] gives the text to act on.

mod keys;

pub use keys::{
    key_id, Ed25519NoteSigner, Ed25519NoteVerifier, VerifierKey, SIG_TYPE_COSIGNATURE_V1,
    SIG_TYPE_ED25519,
};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// The largest note accepted, signatures included. A checkpoint with a hundred
/// cosignatures is about 12 KiB.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The most signature lines accepted; the spec asks verifiers to accept at least 16.
pub const MAX_SIGNATURES: usize = 100;
/// The largest decoded signature (key ID included). Ed25519 needs 68 bytes, a cosignature
/// 76; the spec reminds that post-quantum signatures approach 5 kB.
pub const MAX_SIGNATURE_BYTES: usize = 5 * 1024;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// What is wrong with a note or a key string. Safe to show: says which rule, never a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    #[error("note is {0} bytes, more than the {MAX_NOTE_BYTES} allowed")]
    TooLarge(usize),
    #[error("note is not valid UTF-8")]
    NotUtf8,
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    #[error("note text must be non-empty and end with a newline")]
    BadText,
    #[error("note has no blank line before its signatures")]
    NoSignatureBlock,
    #[error("signature line {0} is malformed")]
    BadSignatureLine(usize),
    #[error("more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("key name {0:?} is empty or contains a space or '+'")]
    BadKeyName(String),
    #[error("malformed verifier key: {0}")]
    BadVerifierKey(&'static str),
    #[error("malformed signer key: {0}")]
    BadSignerKey(&'static str),
    #[error("signing failed")]
    Signing,
    #[error("two verifiers share the key {name}+{key_id:08x}")]
    AmbiguousKey { name: String, key_id: u32 },
    #[error("invalid signature by {name}+{key_id:08x}")]
    InvalidSignature { name: String, key_id: u32 },
    #[error("no signature by a known key")]
    NoVerifiedSignature,
}

/// One signature line: who signed (name and key ID) and the signature after the key ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

impl Signature {
    /// The line as the note carries it, final newline included.
    pub fn to_line(&self) -> String {
        let mut blob = Vec::with_capacity(4 + self.signature.len());
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, B64.encode(blob))
    }

    fn parse_line(line: &str, number: usize) -> Result<Signature, NoteError> {
        let bad = || NoteError::BadSignatureLine(number);
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(bad)?;
        let (name, blob) = rest.split_once(' ').ok_or_else(bad)?;
        check_key_name(name)?;
        // Decoded size is about 3/4 of the text; refuse before decoding something huge.
        if blob.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
            return Err(bad());
        }
        let blob = B64.decode(blob).map_err(|_| bad())?;
        let (id, signature) = blob.split_first_chunk::<4>().ok_or_else(bad)?;
        if signature.is_empty() {
            return Err(bad());
        }
        Ok(Signature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes(*id),
            signature: signature.to_vec(),
        })
    }
}

/// A key name: non-empty, no Unicode spaces, no '+' (signed-note "Format").
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::BadKeyName(name.to_owned()));
    }
    Ok(())
}

/// Something that checks one key's signatures over a note text.
pub trait NoteVerifier {
    fn name(&self) -> &str;
    fn key_id(&self) -> u32;
    /// Whether `signature` (the bytes after the key ID) is this key's over `text`.
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool;
}

/// A note whose syntax is valid; its signatures are not checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<Signature>,
}

impl Note {
    /// A note of `text` (non-empty, ending in a newline, no control characters but newline)
    /// with these signatures.
    pub fn new(text: String, signatures: Vec<Signature>) -> Result<Note, NoteError> {
        check_characters(&text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::BadText);
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        for s in &signatures {
            check_key_name(&s.name)?;
        }
        Ok(Note { text, signatures })
    }

    /// Parses a note under the limits above.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge(bytes.len()));
        }
        let all = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_characters(all)?;
        // "the text is separated from the signatures by the last empty line in the note".
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&all[..split + 1], &all[split + 2..]);
        let body = block
            .strip_suffix('\n')
            .ok_or(NoteError::NoSignatureBlock)?;
        if body.is_empty() {
            return Err(NoteError::NoSignatureBlock);
        }
        let mut signatures = Vec::new();
        for (i, line) in body.split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(Signature::parse_line(line, i + 1)?);
        }
        Note::new(text.to_owned(), signatures)
    }

    /// The text: unverified, not to be acted on.
    pub fn unverified_text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Adds (or, for the same name and key ID, replaces) a signature.
    pub fn add_signature(&mut self, signature: Signature) -> Result<(), NoteError> {
        check_key_name(&signature.name)?;
        self.signatures
            .retain(|s| s.name != signature.name || s.key_id != signature.key_id);
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The note as bytes: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }

    /// Checks the signatures by the signed-note rules against these known keys.
    pub fn verify(self, known: &[&dyn NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        let mut verified = Vec::new();
        let mut unverified = Vec::new();
        for s in self.signatures {
            let mut matching = known
                .iter()
                .filter(|k| k.name() == s.name && k.key_id() == s.key_id);
            let Some(key) = matching.next() else {
                // "Verifiers MUST ignore signatures from unknown keys".
                unverified.push(s);
                continue;
            };
            if matching.next().is_some() {
                return Err(NoteError::AmbiguousKey {
                    name: s.name,
                    key_id: s.key_id,
                });
            }
            // "If a signature from a known key fails to verify, clients SHOULD reject the
            // whole note": we do.
            if !key.verify(self.text.as_bytes(), &s.signature) {
                return Err(NoteError::InvalidSignature {
                    name: s.name,
                    key_id: s.key_id,
                });
            }
            verified.push(s);
        }
        // "If no signature from a known key verifies successfully, clients MUST reject".
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature);
        }
        Ok(VerifiedNote {
            text: self.text,
            verified,
            unverified,
        })
    }
}

/// A note at least one known key signed, every known key's signature having verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    verified: Vec<Signature>,
    unverified: Vec<Signature>,
}

impl VerifiedNote {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures of known keys, all valid.
    pub fn verified(&self) -> &[Signature] {
        &self.verified
    }

    /// Signatures of keys the verifier did not know (kept, e.g. others' cosignatures).
    pub fn unverified(&self) -> &[Signature] {
        &self.unverified
    }
}

/// "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control characters
/// (those below U+0020) other than newline."
fn check_characters(text: &str) -> Result<(), NoteError> {
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
