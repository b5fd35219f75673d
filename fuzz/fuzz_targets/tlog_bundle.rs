//! Audit bundles as `ironroot audit verify` reads them from a directory someone handed
//! over: the input is `checkpoint NUL entries.jsonl NUL proofs.jsonl NUL entries.csv`,
//! verified with the Go sumdb/note example key (the seeds are signed by it). Verification
//! must never panic, must give the same report however the readers chunk the bytes, and a
//! bundle reported OK has every entry verified and no failure.
#![no_main]

use ironroot_tlog::bundle::{verify, BundleReaders, Report};
use ironroot_tlog::note::Ed25519NoteVerifier;
use libfuzzer_sys::fuzz_target;
use std::io::BufReader;

const LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fn run(key: &Ed25519NoteVerifier, parts: &[&[u8]; 4], chunk: usize) -> Report {
    let [checkpoint, entries, proofs, csv] = *parts;
    let mut entries = BufReader::with_capacity(chunk, entries);
    let mut proofs = BufReader::with_capacity(chunk, proofs);
    let mut csv = BufReader::with_capacity(chunk, csv);
    let files = BundleReaders {
        checkpoint,
        entries: &mut entries,
        proofs: &mut proofs,
        csv: &mut csv,
    };
    match verify(key, files) {
        Ok(report) => report,
        Err(e) => panic!("reading from memory failed: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(key) = Ed25519NoteVerifier::parse(LOG_KEY) else {
        return;
    };
    let mut split = data.splitn(4, |&b| b == 0);
    let mut next = || split.next().unwrap_or_default();
    let parts = [next(), next(), next(), next()];
    let whole = run(&key, &parts, 64 * 1024);
    let chunked = run(&key, &parts, 3);
    assert_eq!(whole, chunked, "chunking changed the report");
    assert!(whole.failures.len() as u64 <= whole.failure_count);
    if whole.ok() {
        assert_eq!(whole.verified, whole.entries);
        assert!(whole.failures.is_empty());
    }
});
