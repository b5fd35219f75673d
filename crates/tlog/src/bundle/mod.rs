//! Audit bundles (docs/audit.md, "Export and offline verification"): the entries of the
//! service's log that an auditor exported, their inclusion proofs and the signed checkpoint
//! that covers them, checked offline with nothing but the log's public key.
//!
//! A bundle is a directory of five files:
//!
//! - `entries.jsonl`: one [`AuditEntry`] per line, in increasing index order, each line
//!   exactly the entry's leaf data (its canonical JSON);
//! - `entries.csv`: the same entries for a spreadsheet (RFC 4180, CRLF line ends);
//! - `proofs.jsonl`: per entry, its index, leaf hash and RFC 9162 inclusion proof against
//!   the checkpoint's size (standard base64), and short digests of each field that only
//!   serve to name the field that changed when an entry no longer hashes to its leaf;
//! - `checkpoint`: the C2SP signed checkpoint note as the log served it;
//! - `log-key`: the note verifier key string the exporter used (a convenience: a bundle
//!   can carry any key, so a verifier should be given the key it trusts).
//!
//! [`write`] makes the lines and checks each entry before it is written; [`verify()`] reads
//! the files from readers the caller opened (this module does no I/O of its own), with
//! limits on line length, entry count and file size, and reports every failure with the
//! entry's index and why. Leaf data is [`AuditEntry::leaf_data`], the service's own
//! function, never a second implementation: that is why this module depends on
//! `ironroot-api` (a pure crate that does not depend on this one).

mod lines;
mod problem;
mod select;
mod verify;
mod write;

pub use problem::{Failure, Problem, Report};
pub use select::{Filter, Selection};
pub use verify::{verify, BundleReaders};
pub use write::{check_entry, csv_row, entry_line, proof_line, CSV_HEADER};

use crate::merkle::Hash;
use ironroot_api::AuditEntry;
use serde::{Deserialize, Serialize};

/// The entries as JSON Lines.
pub const ENTRIES_FILE: &str = "entries.jsonl";
/// The entries as CSV.
pub const CSV_FILE: &str = "entries.csv";
/// The inclusion proofs as JSON Lines.
pub const PROOFS_FILE: &str = "proofs.jsonl";
/// The signed checkpoint note.
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// The log's note verifier key string, as the exporter fetched it.
pub const KEY_FILE: &str = "log-key";

/// The longest line of `entries.jsonl` accepted, in bytes (entries hold digests and
/// identifiers: a few hundred bytes).
pub const MAX_ENTRY_LINE: usize = 64 * 1024;
/// The longest line of `proofs.jsonl` accepted (a proof has at most 64 hashes).
pub const MAX_PROOF_LINE: usize = 8 * 1024;
/// The most entries a bundle may hold (the size of the largest log the service targets).
pub const MAX_ENTRIES: u64 = 10_000_000;
/// The largest `entries.jsonl`, `proofs.jsonl` or `entries.csv` accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 << 30;
/// The most hashes an inclusion proof can have (a tree of at most 2^64 leaves).
pub const MAX_PROOF_HASHES: usize = 64;

/// The names of an entry's fields, in the order they are checked and reported.
pub const FIELDS: [&str; 6] = ["index", "at", "kind", "actor", "subject", "body"];

/// One line of `proofs.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofLine {
    pub index: u64,
    /// `SHA-256(0x00 || leaf data)`, standard base64.
    pub leaf_hash: String,
    /// RFC 9162 §2.1.3.1's PATH for the checkpoint's size, bottom-up, standard base64.
    pub hashes: Vec<String>,
    /// Per field (see [`FIELDS`]): the first 8 bytes of SHA-256 of the field's canonical
    /// JSON, in hex. Not proved by the log: only used to say which field changed.
    pub fields: FieldDigests,
}

/// Short digests of an entry's fields, to name the one that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDigests {
    pub index: String,
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub body: String,
}

impl FieldDigests {
    /// The digests of `entry`'s fields; fails only if its body cannot be canonicalised.
    pub fn of(entry: &AuditEntry) -> Result<FieldDigests, ironroot_api::CanonicalError> {
        let d = |v: serde_json::Value| -> Result<String, ironroot_api::CanonicalError> {
            let canonical = ironroot_api::canonical_json(&v)?;
            let full =
                ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, canonical.as_bytes());
            Ok(full.iter().take(8).map(|b| format!("{b:02x}")).collect())
        };
        Ok(FieldDigests {
            index: d(entry.index.into())?,
            at: d(entry.at.into())?,
            kind: d(entry.kind.clone().into())?,
            actor: d(entry.actor.clone().into())?,
            subject: d(entry.subject.clone().into())?,
            body: d(entry.body.clone())?,
        })
    }

    fn as_array(&self) -> [&str; 6] {
        [
            &self.index,
            &self.at,
            &self.kind,
            &self.actor,
            &self.subject,
            &self.body,
        ]
    }

    /// The fields whose digests differ from `other`'s, in [`FIELDS`] order.
    pub fn changed(&self, other: &FieldDigests) -> Vec<&'static str> {
        FIELDS
            .iter()
            .zip(self.as_array().iter().zip(other.as_array()))
            .filter(|(_, (a, b))| **a != *b)
            .map(|(name, _)| *name)
            .collect()
    }
}

/// A parsed proof line: hashes decoded and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedProof {
    pub index: u64,
    pub leaf_hash: Hash,
    pub hashes: Vec<Hash>,
    pub fields: FieldDigests,
}

#[cfg(test)]
mod tests;
