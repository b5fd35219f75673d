#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::checkpoint::Checkpoint;
use crate::merkle::{inclusion_proof, MemoryTree, VerifyError};
use crate::note::{Ed25519NoteSigner, Ed25519NoteVerifier, Note};
use serde_json::json;

const ORIGIN: &str = "audit.example.com/ironroot-log";

/// A bundle's five files, as bytes.
#[derive(Clone)]
struct Files {
    checkpoint: Vec<u8>,
    entries: String,
    proofs: String,
    csv: String,
}

fn entry(index: u64) -> AuditEntry {
    AuditEntry {
        index,
        at: 1_700_000_000 + index,
        kind: "trust.decision".into(),
        actor: "service".into(),
        subject: format!("host/h{index}"),
        body: json!({"host_id": format!("h{index}"), "verdict": "trusted"}),
    }
}

/// A log of `size` entries signed by `signer`, and a bundle of the entries `keep`.
fn bundle(signer: &Ed25519NoteSigner, size: u64, keep: &[u64]) -> Files {
    let all: Vec<AuditEntry> = (0..size).map(entry).collect();
    let data: Vec<Vec<u8>> = all.iter().map(|e| e.leaf_data().unwrap()).collect();
    let tree = MemoryTree::from_leaves(&data);
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root(),
        extensions: vec![],
    };
    let text = cp.to_text();
    let note = Note::new(text.clone(), vec![signer.sign(&text)]).unwrap();
    let mut files = Files {
        checkpoint: note.to_text().into_bytes(),
        entries: String::new(),
        proofs: String::new(),
        csv: format!("{CSV_HEADER}\r\n"),
    };
    for &i in keep {
        let e = &all[i as usize];
        let proof = inclusion_proof(&tree, i, size).unwrap();
        check_entry(&cp, e, &proof).unwrap();
        files.entries += &entry_line(e).unwrap();
        files.proofs += &proof_line(e, &proof).unwrap();
        files.csv += &csv_row(e).unwrap();
    }
    files
}

fn run(key: &Ed25519NoteVerifier, f: &Files) -> Report {
    verify(
        key,
        BundleReaders {
            checkpoint: &f.checkpoint,
            entries: &mut f.entries.as_bytes(),
            proofs: &mut f.proofs.as_bytes(),
            csv: &mut f.csv.as_bytes(),
        },
    )
    .unwrap()
}

fn setup() -> (Ed25519NoteSigner, Ed25519NoteVerifier, Files) {
    let signer = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let key = Ed25519NoteVerifier::from_key(&signer.verifier_key()).unwrap();
    let files = bundle(&signer, 11, &[1, 2, 4, 7, 10]);
    (signer, key, files)
}

fn first(r: &Report) -> (Option<u64>, Problem) {
    let f = r.first().expect("a failure");
    (f.index, f.problem.clone())
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(|l| format!("{l}\n")).collect()
}

#[test]
fn an_untouched_bundle_verifies() {
    let (_, key, files) = setup();
    let r = run(&key, &files);
    assert!(r.ok(), "{:?}", r.failures);
    assert_eq!((r.entries, r.verified), (5, 5));
    assert_eq!(r.checkpoint.unwrap().size, 11);
}

#[test]
fn an_empty_bundle_still_proves_its_checkpoint() {
    let signer = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let key = Ed25519NoteVerifier::from_key(&signer.verifier_key()).unwrap();
    let r = run(&key, &bundle(&signer, 3, &[]));
    assert!(r.ok());
    assert_eq!(r.verified, 0);
}

#[test]
fn a_tampered_body_names_the_entry_and_the_field() {
    let (_, key, mut files) = setup();
    files.entries = files
        .entries
        .replace(r#""host_id":"h4""#, r#""host_id":"h9""#);
    let r = run(&key, &files);
    assert!(!r.ok());
    let want = Problem::LeafMismatch {
        fields: vec!["body"],
    };
    assert_eq!(first(&r), (Some(4), want));
    assert_eq!(
        r.first().unwrap().to_string(),
        "entry 4: leaf mismatch: field body differs from what the log recorded"
    );
    // The CSV no longer matches the entries either; the other entries verify.
    assert_eq!(r.verified, 4);
    assert!(r.failures.iter().any(|f| f.problem == Problem::CsvMismatch));
}

#[test]
fn a_changed_kind_names_the_field() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.entries);
    l[2] = l[2].replace("trust.decision", "key.released");
    files.entries = l.concat();
    let want = Problem::LeafMismatch {
        fields: vec!["kind"],
    };
    assert_eq!(first(&run(&key, &files)), (Some(4), want));
}

#[test]
fn reordered_lines_are_out_of_order() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.entries);
    l.swap(1, 2); // 1, 4, 2, 7, 10
    files.entries = l.concat();
    let r = run(&key, &files);
    assert!(!r.ok());
    // Entry 2 is found missing where it belonged, then out of place.
    assert_eq!(first(&r), (Some(2), Problem::ProofWithoutEntry));
    assert!(r.failures.iter().any(|f| f.index == Some(2)
        && f.problem
            == Problem::OutOfOrder {
                file: ENTRIES_FILE,
                after: 4
            }));
}

#[test]
fn an_entry_moved_to_another_index_names_the_index_field() {
    let (_, key, mut files) = setup();
    files.entries = files.entries.replace(r#""index":7,"#, r#""index":8,"#);
    files.proofs = files.proofs.replace(r#"{"index":7,"#, r#"{"index":8,"#);
    let want = Problem::LeafMismatch {
        fields: vec!["index"],
    };
    assert_eq!(first(&run(&key, &files)), (Some(8), want));
}

#[test]
fn a_removed_proof_is_named() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.proofs);
    l.remove(3); // index 7
    files.proofs = l.concat();
    let r = run(&key, &files);
    assert_eq!(first(&r), (Some(7), Problem::MissingProof));
    assert_eq!((r.failure_count, r.verified), (1, 4));
}

#[test]
fn a_removed_entry_leaves_its_proof_without_an_entry() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.entries);
    l.remove(0);
    files.entries = l.concat();
    let r = run(&key, &files);
    assert_eq!(first(&r), (Some(1), Problem::ProofWithoutEntry));
}

#[test]
fn a_duplicate_and_an_index_beyond_the_checkpoint_are_named() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.entries);
    l.insert(2, l[1].clone());
    files.entries = l.concat();
    let want = Problem::Duplicate { file: ENTRIES_FILE };
    assert_eq!(first(&run(&key, &files)), (Some(2), want));

    let (signer, key, _) = setup();
    let mut big = bundle(&signer, 13, &[12]);
    big.checkpoint = bundle(&signer, 11, &[]).checkpoint;
    let r = run(&key, &big);
    assert_eq!(
        first(&r),
        (Some(12), Problem::BeyondCheckpoint { size: 11 })
    );
}

#[test]
fn a_broken_proof_is_invalid() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.proofs);
    let mut p: ProofLine = serde_json::from_str(&l[0]).unwrap();
    p.hashes.pop();
    l[0] = serde_json::to_string(&p).unwrap() + "\n";
    files.proofs = l.concat();
    let want = Problem::ProofInvalid(VerifyError::ProofTooShort);
    assert_eq!(first(&run(&key, &files)), (Some(1), want));
}

#[test]
fn a_wrong_key_or_origin_or_a_truncated_checkpoint_fails_the_bundle() {
    let (signer, _, files) = setup();
    let other = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let other = Ed25519NoteVerifier::from_key(&other.verifier_key()).unwrap();
    let r = run(&other, &files);
    assert!(!r.ok() && r.stopped && r.checkpoint.is_none());
    assert!(matches!(first(&r).1, Problem::Checkpoint(_)));

    let mut cut = files.clone();
    cut.checkpoint.truncate(cut.checkpoint.len() - 20);
    let key = Ed25519NoteVerifier::from_key(&signer.verifier_key()).unwrap();
    assert!(matches!(first(&run(&key, &cut)).1, Problem::Checkpoint(_)));

    // Signed by the right key, but for another log's origin.
    let keys: [&dyn crate::note::NoteVerifier; 1] = [&key];
    let (cp, _) = Checkpoint::open(&files.checkpoint, &keys).unwrap();
    let text = Checkpoint {
        origin: "elsewhere.example.com/log".into(),
        ..cp
    }
    .to_text();
    let mut moved = files.clone();
    moved.checkpoint = Note::new(text.clone(), vec![signer.sign(&text)])
        .unwrap()
        .to_text()
        .into_bytes();
    let r = run(&key, &moved);
    assert!(matches!(
        first(&r).1,
        Problem::Checkpoint(crate::checkpoint::CheckpointError::NotSignedByOrigin(_))
    ));
}

#[test]
fn limits_and_malformed_lines_are_reported() {
    let (_, key, mut files) = setup();
    files.entries = format!("{}\n", "x".repeat(MAX_ENTRY_LINE + 1));
    let r = run(&key, &files);
    assert!(r.stopped);
    assert!(matches!(first(&r).1, Problem::LineTooLong { line: 1, .. }));

    let (_, key, mut files) = setup();
    files.entries.insert_str(0, "not json\n");
    let r = run(&key, &files);
    assert!(matches!(first(&r).1, Problem::Malformed { line: 1, .. }));
    assert_eq!(r.verified, 5);

    let (_, key, mut files) = setup();
    files.entries.pop(); // the final newline
    let r = run(&key, &files);
    assert!(matches!(first(&r).1, Problem::Malformed { line: 5, .. }));
}

#[test]
fn a_changed_leaf_hash_in_the_proofs_is_caught() {
    let (_, key, mut files) = setup();
    let mut l = lines(&files.proofs);
    let mut p: ProofLine = serde_json::from_str(&l[1]).unwrap();
    p.leaf_hash = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    l[1] = serde_json::to_string(&p).unwrap() + "\n";
    files.proofs = l.concat();
    assert_eq!(first(&run(&key, &files)), (Some(2), Problem::WrongLeafHash));
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let mut e = entry(3);
    e.actor = "=HYPERLINK(\"x\")".into();
    let row = csv_row(&e).unwrap();
    assert!(
        row.starts_with("3,2023-11-14T22:13:23Z,trust.decision,\"'=HYPERLINK(\"\"x\"\")\","),
        "{row}"
    );
    assert!(
        row.ends_with("\"{\"\"host_id\"\":\"\"h3\"\",\"\"verdict\"\":\"\"trusted\"\"}\"\r\n"),
        "{row}"
    );
}

use base64::Engine as _;

/// The fuzz seeds, written by an independent Python implementation of the format
/// (fuzz/examples/tlog_bundle_seed.py): `checkpoint NUL entries NUL proofs NUL csv`.
fn seed(bytes: &[u8]) -> Report {
    let key = Ed25519NoteVerifier::parse(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    )
    .unwrap();
    let parts: Vec<&[u8]> = bytes.splitn(4, |&b| b == 0).collect();
    let [checkpoint, entries, proofs, csv] = parts.as_slice() else {
        panic!("a seed has four parts");
    };
    verify(
        &key,
        BundleReaders {
            checkpoint,
            entries: &mut &entries[..],
            proofs: &mut &proofs[..],
            csv: &mut &csv[..],
        },
    )
    .unwrap()
}

#[test]
fn bundles_written_by_another_implementation_verify() {
    let r = seed(include_bytes!(
        "../../../../fuzz/seeds/tlog_bundle/valid-3-of-5.bin"
    ));
    assert!(r.ok(), "{:?}", r.failures);
    assert_eq!(r.verified, 3);
    assert!(seed(include_bytes!(
        "../../../../fuzz/seeds/tlog_bundle/empty.bin"
    ))
    .ok());
    let r = seed(include_bytes!(
        "../../../../fuzz/seeds/tlog_bundle/tampered-body.bin"
    ));
    let want = Problem::LeafMismatch {
        fields: vec!["body"],
    };
    assert_eq!(first(&r), (Some(3), want));
}
