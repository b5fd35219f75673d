//! The lines of a bundle's files, and the check every entry passes before the exporter
//! writes it. The verifier regenerates the CSV from these same functions, so the
//! spreadsheet can be checked against the proved entries.

use super::{FieldDigests, ParsedProof, Problem, ProofLine};
use crate::checkpoint::Checkpoint;
use crate::merkle::{leaf_hash, verify_inclusion, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ironroot_api::{canonical_json, AuditEntry, CanonicalError};

/// The header row of `entries.csv`.
pub const CSV_HEADER: &str = "index,time,kind,actor,subject,body";

/// An entry's line of `entries.jsonl`, newline included: exactly its leaf data (the
/// canonical JSON the leaf hashes), so each line is the bytes the log proves.
pub fn entry_line(entry: &AuditEntry) -> Result<String, CanonicalError> {
    let mut line = String::from_utf8_lossy(&entry.leaf_data()?).into_owned();
    line.push('\n');
    Ok(line)
}

/// An entry's row of `entries.csv`, CRLF included: index, time (RFC 3339 UTC), kind,
/// actor, subject, body (canonical JSON).
pub fn csv_row(entry: &AuditEntry) -> Result<String, CanonicalError> {
    let body = canonical_json(&entry.body)?;
    Ok(format!(
        "{},{},{},{},{},{}\r\n",
        entry.index,
        ironroot_timestamp::rfc3339::format(entry.at),
        csv_field(&entry.kind),
        csv_field(&entry.actor),
        csv_field(&entry.subject),
        csv_field(&body),
    ))
}

/// One CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma, a quote or a
/// line break. A field a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a CR: OWASP's list) gets a leading `'`, since actors and subjects can
/// be names people chose.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// An entry's line of `proofs.jsonl`, newline included: its leaf hash, the inclusion
/// proof and its field digests.
pub fn proof_line(entry: &AuditEntry, proof: &[Hash]) -> Result<String, CanonicalError> {
    let line = ProofLine {
        index: entry.index,
        leaf_hash: B64.encode(leaf_hash(&entry.leaf_data()?)),
        hashes: proof.iter().map(|h| B64.encode(h)).collect(),
        fields: FieldDigests::of(entry)?,
    };
    // Serialising plain strings and integers cannot fail; an empty line would be caught
    // by the check the exporter runs over the written files.
    Ok(serde_json::to_string(&line).unwrap_or_default() + "\n")
}

/// Checks that `entry` with this inclusion proof is in the tree `checkpoint` states:
/// what the exporter runs on every entry before writing it.
pub fn check_entry(
    checkpoint: &Checkpoint,
    entry: &AuditEntry,
    proof: &[Hash],
) -> Result<(), Problem> {
    if entry.index >= checkpoint.size {
        return Err(Problem::BeyondCheckpoint {
            size: checkpoint.size,
        });
    }
    let leaf = leaf_hash(&entry.leaf_data().map_err(Problem::Canonical)?);
    verify_inclusion(entry.index, checkpoint.size, &leaf, proof, &checkpoint.root)
        .map_err(Problem::ProofInvalid)
}

/// Checks an entry read from a bundle against its proof line: the leaf recomputed from
/// the entry's fields must be the one the proof line states, and the proof must lead
/// from it to the checkpoint's root.
pub(crate) fn check_pair(
    checkpoint: &Checkpoint,
    entry: &AuditEntry,
    proof: &ParsedProof,
) -> Result<(), Problem> {
    if entry.index >= checkpoint.size {
        return Err(Problem::BeyondCheckpoint {
            size: checkpoint.size,
        });
    }
    let leaf = leaf_hash(&entry.leaf_data().map_err(Problem::Canonical)?);
    let proved = verify_inclusion(
        entry.index,
        checkpoint.size,
        &leaf,
        &proof.hashes,
        &checkpoint.root,
    );
    match (proved, leaf == proof.leaf_hash) {
        (Ok(()), true) => Ok(()),
        (Ok(()), false) => Err(Problem::WrongLeafHash),
        (Err(e), true) => Err(Problem::ProofInvalid(e)),
        (Err(_), false) => {
            let fields = FieldDigests::of(entry)
                .map(|now| proof.fields.changed(&now))
                .unwrap_or_default();
            Err(Problem::LeafMismatch { fields })
        }
    }
}
