//! A witness's decisions (docs/audit.md, "The witness"): given the last checkpoint a
//! witness verified and the one a log serves now (with a consistency proof between them),
//! is the new one the same tree head, a consistent extension, a rollback or a fork?
//!
//! A witness exists so that a log cannot show different histories to different people,
//! or rewrite its own: it remembers the largest tree head it verified, accepts a new one
//! only with an RFC 9162 consistency proof from it, and cosigns what it accepted
//! (c2sp.org/tlog-cosignature). Anyone who holds two checkpoints cosigned by honest
//! witnesses knows both come from one append-only history.
//!
//! Pure: the caller fetches the checkpoint and the proof and keeps the state file
//! ([`state`]) and the witness's key ([`key`]); this module only decides. A checkpoint
//! whose signature does not verify is refused before any decision ([`open`]).

pub mod key;
pub mod state;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::Cosigner;
use crate::merkle::{verify_consistency, Hash, VerifyError};
use crate::note::{Ed25519NoteVerifier, Note, NoteError, NoteVerifier, VerifiedNote};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// A tree head: what a checkpoint states, shown as `size N (root <base64>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

impl TreeHead {
    pub fn of(checkpoint: &Checkpoint) -> TreeHead {
        TreeHead {
            size: checkpoint.size,
            root: checkpoint.root,
        }
    }
}

impl std::fmt::Display for TreeHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "size {} (root {})", self.size, B64.encode(self.root))
    }
}

/// Why two tree heads cannot both be of one append-only log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForkReason {
    #[error("the same size with a different root")]
    SameSizeDifferentRoot,
    #[error("the log's consistency proof does not verify: {0}")]
    ProofFailed(VerifyError),
}

/// What a witness concludes about a newly served checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The first checkpoint this witness sees of the log: accepted as the starting point
    /// (a witness can only vouch for what happened after it started watching).
    First,
    /// The tree head already verified: nothing new.
    Same,
    /// A larger tree that extends the one verified (the proof from `from` verified).
    Consistent { from: u64 },
    /// A smaller tree than one already verified: the log lost or hid entries.
    Rollback { seen: TreeHead, served: TreeHead },
    /// A tree that is not an extension of the one verified: two histories.
    Fork {
        seen: TreeHead,
        served: TreeHead,
        why: ForkReason,
    },
}

impl Verdict {
    /// A rollback or a fork: the log is inconsistent and the witness must raise an alert.
    pub fn is_inconsistent(&self) -> bool {
        matches!(self, Verdict::Rollback { .. } | Verdict::Fork { .. })
    }

    /// Whether the served checkpoint becomes the witness's new state (and is cosigned).
    pub fn advances(&self) -> bool {
        matches!(self, Verdict::First | Verdict::Consistent { .. })
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::First => write!(f, "first checkpoint seen"),
            Verdict::Same => write!(f, "unchanged"),
            Verdict::Consistent { from } => write!(f, "consistent with size {from}"),
            Verdict::Rollback { seen, served } => write!(
                f,
                "rollback: the log serves {served}, smaller than {seen} which this witness \
                 verified before"
            ),
            Verdict::Fork { seen, served, why } => write!(
                f,
                "fork: the log serves {served}, which is not an extension of {seen} that \
                 this witness verified before: {why}"
            ),
        }
    }
}

/// Why a served checkpoint is refused before any decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Not signed by the log's key (or not a checkpoint of it): proves nothing about the
    /// log, since anyone can serve such bytes.
    #[error("the checkpoint does not verify with the log's key: {0}")]
    BadSignature(#[from] CheckpointError),
}

/// Opens a served checkpoint with the log's (pinned) key.
pub fn open(
    note: &[u8],
    log_key: &Ed25519NoteVerifier,
) -> Result<(Checkpoint, VerifiedNote), OpenError> {
    let keys: [&dyn NoteVerifier; 1] = [log_key];
    Ok(Checkpoint::open(note, &keys)?)
}

/// The consistency proof the witness needs before deciding: `Some((from, to))` when the
/// served tree is larger than a non-empty verified one. (From size 0 the proof is empty.)
pub fn proof_needed(seen: Option<&Checkpoint>, served: &Checkpoint) -> Option<(u64, u64)> {
    let seen = seen?;
    (seen.size > 0 && served.size > seen.size).then_some((seen.size, served.size))
}

/// Decides about `served` (opened with the log's key) given the last verified
/// checkpoint `seen` (if any) and the log's consistency proof from `seen`'s size to
/// `served`'s (ignored unless [`proof_needed`] asked for it; pass `&[]` otherwise).
pub fn decide(seen: Option<&Checkpoint>, served: &Checkpoint, proof: &[Hash]) -> Verdict {
    let Some(seen) = seen else {
        return Verdict::First;
    };
    let (old, new) = (TreeHead::of(seen), TreeHead::of(served));
    if new.size < old.size {
        return Verdict::Rollback {
            seen: old,
            served: new,
        };
    }
    if new.size == old.size {
        if new.root == old.root {
            return Verdict::Same;
        }
        return Verdict::Fork {
            seen: old,
            served: new,
            why: ForkReason::SameSizeDifferentRoot,
        };
    }
    let proof = if old.size == 0 { &[][..] } else { proof };
    match verify_consistency(old.size, new.size, &old.root, &new.root, proof) {
        Ok(()) => Verdict::Consistent { from: old.size },
        Err(e) => Verdict::Fork {
            seen: old,
            served: new,
            why: ForkReason::ProofFailed(e),
        },
    }
}

/// The log's signed note with this witness's cosignature (at `timestamp`, POSIX
/// seconds) added: what the witness publishes for a checkpoint it accepted. Other
/// signatures on the note are kept.
pub fn cosigned_note(
    note: &[u8],
    cosigner: &Cosigner,
    timestamp: u64,
) -> Result<String, NoteError> {
    let mut parsed = Note::parse(note)?;
    let signature = cosigner.cosign(parsed.unverified_text(), timestamp)?;
    parsed.add_signature(signature)?;
    Ok(parsed.to_text())
}

#[cfg(test)]
mod tests;
