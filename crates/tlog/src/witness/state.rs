//! The witness's state file: the last checkpoint it verified, so that a restarted witness
//! still refuses a rollback or a fork of what it saw. JSON, one object:
//!
//! ```json
//! {"version": 1, "origin": "…", "size": 42, "root": "<base64>", "note": "<the signed note>"}
//! ```
//!
//! `size` and `root` are there for people reading the file; what counts is `note`, the
//! log's signed checkpoint, which is verified again with the log's key on every load and
//! must state the same origin, size and root. A file edited by hand, truncated, or
//! written for another log is refused, never silently replaced: the witness would
//! otherwise forget what it promised to remember. The bytes are untrusted (fuzzed as
//! `tlog_witness_state`), parsed under a size limit.

use super::{open, OpenError};
use crate::checkpoint::Checkpoint;
use crate::note::{Ed25519NoteVerifier, MAX_NOTE_BYTES};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The format written and the only one read.
pub const STATE_VERSION: u32 = 1;
/// The largest state file read: a note of the largest size, every byte escaped, and the
/// other fields.
pub const MAX_STATE_BYTES: usize = 6 * MAX_NOTE_BYTES + 4096;

/// Why a state file is refused. Says which rule; never prints the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("the state file is larger than {MAX_STATE_BYTES} bytes")]
    TooLarge,
    #[error("the state file is not the witness's JSON: {0}")]
    Malformed(String),
    #[error("the state file has version {0}, this witness reads version {STATE_VERSION}")]
    Version(u32),
    #[error("the state file's checkpoint {0}")]
    Checkpoint(OpenError),
    #[error("the state file's {0} is not what its signed checkpoint states (edited by hand?)")]
    Mismatch(&'static str),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    origin: String,
    size: u64,
    root: String,
    note: String,
}

/// The last checkpoint a witness verified, with the signed note it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessState {
    checkpoint: Checkpoint,
    note: String,
}

impl WitnessState {
    /// The state after accepting `note`, which must open with the log's key.
    pub fn accept(note: &str, log_key: &Ed25519NoteVerifier) -> Result<WitnessState, OpenError> {
        let (checkpoint, _) = open(note.as_bytes(), log_key)?;
        Ok(WitnessState {
            checkpoint,
            note: note.to_owned(),
        })
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The log's signed note, as served.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// Reads a state file, checking its checkpoint with the log's key.
    pub fn parse(bytes: &[u8], log_key: &Ed25519NoteVerifier) -> Result<WitnessState, StateError> {
        if bytes.len() > MAX_STATE_BYTES {
            return Err(StateError::TooLarge);
        }
        let file: StateFile =
            serde_json::from_slice(bytes).map_err(|e| StateError::Malformed(e.to_string()))?;
        if file.version != STATE_VERSION {
            return Err(StateError::Version(file.version));
        }
        let state = WitnessState::accept(&file.note, log_key).map_err(StateError::Checkpoint)?;
        let c = &state.checkpoint;
        if c.origin != file.origin {
            return Err(StateError::Mismatch("origin"));
        }
        if c.size != file.size {
            return Err(StateError::Mismatch("size"));
        }
        if B64.encode(c.root) != file.root {
            return Err(StateError::Mismatch("root"));
        }
        Ok(state)
    }

    /// The state file's bytes (pretty JSON, ending in a newline).
    pub fn to_file(&self) -> String {
        let file = StateFile {
            version: STATE_VERSION,
            origin: self.checkpoint.origin.clone(),
            size: self.checkpoint.size,
            root: B64.encode(self.checkpoint.root),
            note: self.note.clone(),
        };
        // Serializing strings and integers cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }
}
