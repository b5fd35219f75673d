//! C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint, v1.0.0): the note text of a signed tree
//! head. Lines: the origin, the tree size in decimal, the base64 root hash, then optional
//! non-empty extension lines; every line ends in a newline.
//!
//! Parsing is strict so that one tree head has one text: no leading zeroes in the size, a
//! canonical base64 root of exactly 32 bytes, no CR or other control characters, and
//! limits on line count and length.

use crate::merkle::{Hash, HASH_LEN};
use crate::note::{NoteError, NoteVerifier, VerifiedNote, MAX_NOTE_BYTES};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// The most extension lines accepted (the spec advises against using any).
pub const MAX_EXTENSION_LINES: usize = 16;
/// The longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1024;

/// Why a checkpoint text is refused; `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("checkpoint is larger than {MAX_NOTE_BYTES} bytes")]
    TooLarge,
    #[error("checkpoint must end with a newline")]
    NoFinalNewline,
    #[error("checkpoint has fewer than three lines")]
    TooFewLines,
    #[error("checkpoint has more than {MAX_EXTENSION_LINES} extension lines")]
    TooManyLines,
    #[error("line {0} is longer than {MAX_LINE_BYTES} bytes")]
    LineTooLong(usize),
    #[error("line {0} contains a control character")]
    ControlCharacter(usize),
    #[error("the origin line is empty")]
    EmptyOrigin,
    #[error("the tree size is not a decimal number without leading zeroes")]
    BadTreeSize,
    #[error("the root hash is not canonical base64 of {HASH_LEN} bytes")]
    BadRootHash,
    #[error("extension line {0} is empty")]
    EmptyExtension(usize),
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    #[error("the checkpoint is not signed by a key named like its origin {0:?}")]
    NotSignedByOrigin(String),
}

/// A log's tree head as a checkpoint states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text (the body a log signs and a witness cosigns).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint note text.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(CheckpointError::TooLarge);
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::NoFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').take(3 + MAX_EXTENSION_LINES + 1).collect();
        if lines.len() > 3 + MAX_EXTENSION_LINES {
            return Err(CheckpointError::TooManyLines);
        }
        for (i, line) in lines.iter().enumerate() {
            if line.len() > MAX_LINE_BYTES {
                return Err(CheckpointError::LineTooLong(i + 1));
            }
            if line.chars().any(char::is_control) {
                return Err(CheckpointError::ControlCharacter(i + 1));
            }
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        for (i, e) in extensions.iter().enumerate() {
            if e.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 4));
            }
        }
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
            extensions: extensions.iter().map(|e| (*e).to_owned()).collect(),
        })
    }

    /// Parses and verifies a signed checkpoint: the note must verify against `log_keys` and
    /// one verified signature must be by a key named as the origin (the spec's SHOULD, made
    /// a must here so that a key of one log cannot vouch for another log's origin).
    pub fn open(
        note: &[u8],
        log_keys: &[&dyn NoteVerifier],
    ) -> Result<(Checkpoint, VerifiedNote), CheckpointError> {
        let verified = crate::note::Note::parse(note)?.verify(log_keys)?;
        let checkpoint = Checkpoint::parse(verified.text())?;
        if !verified
            .verified()
            .iter()
            .any(|s| s.name == checkpoint.origin)
        {
            return Err(CheckpointError::NotSignedByOrigin(checkpoint.origin));
        }
        Ok((checkpoint, verified))
    }
}

/// "the ASCII decimal representation of the number of leaves in the tree, with no leading
/// zeroes (unless the tree is empty, in which case the tree size is `0`)".
fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits || (text.len() > 1 && text.starts_with('0')) {
        return Err(CheckpointError::BadTreeSize);
    }
    text.parse().map_err(|_| CheckpointError::BadTreeSize)
}

/// Standard base64 (RFC 4648 §4) with padding, decoding to exactly 32 bytes; the decoder
/// rejects non-zero trailing bits, so each root has one spelling.
fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    if text.len() != 44 {
        return Err(CheckpointError::BadRootHash);
    }
    let bytes = B64.decode(text).map_err(|_| CheckpointError::BadRootHash)?;
    Hash::try_from(bytes.as_slice()).map_err(|_| CheckpointError::BadRootHash)
}

#[cfg(test)]
mod tests;
