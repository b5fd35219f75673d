//! What `audit verify` reports: each failure with the entry's index (when it has one) and
//! exactly why, and the counts.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::merkle::VerifyError;
use ironroot_api::CanonicalError;

/// How many failures a report lists (all are counted).
pub const MAX_LISTED: usize = 100;

/// Why a bundle, or one of its entries, does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    #[error("{file} line {line}: {reason}")]
    Malformed {
        file: &'static str,
        line: u64,
        reason: String,
    },
    #[error("{file} line {line} is longer than {max} bytes")]
    LineTooLong {
        file: &'static str,
        line: u64,
        max: usize,
    },
    #[error("{file} is larger than {max} bytes")]
    FileTooLarge { file: &'static str, max: u64 },
    #[error("{file} holds more than {max} entries")]
    TooManyEntries { file: &'static str, max: u64 },
    #[error("out of order in {file}: it comes after index {after}")]
    OutOfOrder { file: &'static str, after: u64 },
    #[error("duplicate index in {file}")]
    Duplicate { file: &'static str },
    #[error("index beyond the checkpoint, whose tree has {size} entries")]
    BeyondCheckpoint { size: u64 },
    #[error("entry missing from proofs.jsonl")]
    MissingProof,
    #[error("proofs.jsonl has a proof for this index but entries.jsonl has no such entry (removed or moved)")]
    ProofWithoutEntry,
    #[error("the entry cannot be hashed: {0}")]
    Canonical(CanonicalError),
    #[error("leaf mismatch: {}", describe_fields(.fields))]
    LeafMismatch { fields: Vec<&'static str> },
    #[error("the entry is in the log, but proofs.jsonl states a different leaf hash for it")]
    WrongLeafHash,
    #[error("inclusion proof invalid: {0}")]
    ProofInvalid(VerifyError),
    #[error("entries.csv does not match entries.jsonl: do not trust the spreadsheet")]
    CsvMismatch,
}

fn describe_fields(fields: &[&'static str]) -> String {
    match fields {
        [] => "the entry does not hash to the leaf the log recorded (which field changed is \
               unknown: the bundle's field digests were changed too)"
            .to_owned(),
        [one] => format!("field {one} differs from what the log recorded"),
        many => format!(
            "fields {} differ from what the log recorded",
            many.join(", ")
        ),
    }
}

/// One failure: the entry's index when the problem is about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub index: Option<u64>,
    pub problem: Problem,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "entry {i}: {}", self.problem),
            None => write!(f, "{}", self.problem),
        }
    }
}

/// The outcome of verifying a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The checkpoint, once its signature and origin verified.
    pub checkpoint: Option<Checkpoint>,
    /// Entry lines read.
    pub entries: u64,
    /// Entries whose leaf and inclusion proof verified against the checkpoint.
    pub verified: u64,
    /// Every failure found.
    pub failure_count: u64,
    /// The first [`MAX_LISTED`] failures, in the order found.
    pub failures: Vec<Failure>,
    /// Whether verification stopped early (a bad checkpoint, a file over a limit).
    pub stopped: bool,
}

impl Report {
    /// True only when the checkpoint and every entry verified and nothing failed.
    pub fn ok(&self) -> bool {
        self.checkpoint.is_some() && self.failure_count == 0 && !self.stopped
    }

    /// The first failure found.
    pub fn first(&self) -> Option<&Failure> {
        self.failures.first()
    }

    pub(crate) fn fail(&mut self, index: Option<u64>, problem: Problem) {
        self.failure_count += 1;
        if self.failures.len() < MAX_LISTED {
            self.failures.push(Failure { index, problem });
        }
    }

    pub(crate) fn stop(&mut self, index: Option<u64>, problem: Problem) {
        self.fail(index, problem);
        self.stopped = true;
    }
}
