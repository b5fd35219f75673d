//! Offline verification of a bundle: the checkpoint against the trusted key, then
//! `entries.jsonl` and `proofs.jsonl` walked together in index order (constant memory,
//! whatever the bundle's size), then `entries.csv` against the entries read.

use super::lines::Stream;
use super::write::{check_pair, csv_row};
use super::{
    ParsedProof, Problem, Report, CSV_HEADER, ENTRIES_FILE, MAX_ENTRY_LINE, MAX_FILE_BYTES,
    MAX_PROOF_LINE, PROOFS_FILE,
};
use crate::checkpoint::Checkpoint;
use crate::note::{Ed25519NoteVerifier, NoteVerifier};
use ironroot_crypto::{HashAlg, Hasher};
use std::io::{self, BufRead, Read};

/// The bundle's files, opened by the caller.
pub struct BundleReaders<'a> {
    /// The whole `checkpoint` file (a note is at most 64 KiB; more fails to parse).
    pub checkpoint: &'a [u8],
    pub entries: &'a mut dyn BufRead,
    pub proofs: &'a mut dyn BufRead,
    pub csv: &'a mut dyn BufRead,
}

/// Verifies a bundle with the log key the caller trusts. Only the readers' I/O errors are
/// errors; everything wrong with the bundle is in the [`Report`].
pub fn verify(key: &Ed25519NoteVerifier, files: BundleReaders<'_>) -> io::Result<Report> {
    let mut report = Report::default();
    let keys: [&dyn NoteVerifier; 1] = [key];
    let checkpoint = match Checkpoint::open(files.checkpoint, &keys) {
        Ok((checkpoint, _)) => checkpoint,
        Err(e) => {
            report.stop(None, Problem::Checkpoint(e));
            return Ok(report);
        }
    };
    let mut csv = Hasher::new(HashAlg::Sha256);
    csv.update(CSV_HEADER.as_bytes()).update(b"\r\n");
    let mut csv_ok = true;
    walk(
        &checkpoint,
        files.entries,
        files.proofs,
        &mut report,
        |entry| match csv_row(entry) {
            Ok(row) => {
                csv.update(row.as_bytes());
            }
            Err(_) => csv_ok = false,
        },
    )?;
    if !report.stopped {
        let csv_matches = csv_ok && csv.finish() == digest_of(files.csv)?;
        if !csv_matches {
            report.fail(None, Problem::CsvMismatch);
        }
    }
    report.checkpoint = Some(checkpoint);
    Ok(report)
}

/// Walks the entries and their proofs together (both in increasing index order).
fn walk(
    checkpoint: &Checkpoint,
    entries: &mut dyn BufRead,
    proofs: &mut dyn BufRead,
    report: &mut Report,
    mut on_entry: impl FnMut(&ironroot_api::AuditEntry),
) -> io::Result<()> {
    let mut entries = Stream::new(entries, ENTRIES_FILE, MAX_ENTRY_LINE);
    let mut proofs = Stream::new(proofs, PROOFS_FILE, MAX_PROOF_LINE);
    let mut proof: Option<ParsedProof> = proofs.next_proof(report)?;
    loop {
        let mut lines_read = 0u64;
        let next = entries.next_entry(report, |e| {
            lines_read += 1;
            on_entry(e);
        })?;
        report.entries += lines_read;
        if report.stopped {
            return Ok(());
        }
        let Some(entry) = next else { break };
        // Proofs for indexes the entries skipped have lost their entry.
        while let Some(p) = proof.as_ref().filter(|p| p.index < entry.index) {
            report.fail(Some(p.index), Problem::ProofWithoutEntry);
            proof = proofs.next_proof(report)?;
        }
        if report.stopped {
            return Ok(());
        }
        match proof.as_ref().filter(|p| p.index == entry.index) {
            None => report.fail(Some(entry.index), Problem::MissingProof),
            Some(p) => {
                match check_pair(checkpoint, &entry, p) {
                    Ok(()) => report.verified += 1,
                    Err(problem) => report.fail(Some(entry.index), problem),
                }
                proof = proofs.next_proof(report)?;
            }
        }
    }
    while let Some(p) = proof {
        report.fail(Some(p.index), Problem::ProofWithoutEntry);
        proof = proofs.next_proof(report)?;
    }
    Ok(())
}

/// SHA-256 of a whole reader, bounded by [`MAX_FILE_BYTES`] (over it, the digest of what
/// was read, which then cannot match).
fn digest_of(r: &mut dyn BufRead) -> io::Result<Vec<u8>> {
    let mut hasher = Hasher::new(HashAlg::Sha256);
    let mut limited = r.take(MAX_FILE_BYTES);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = limited.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}
