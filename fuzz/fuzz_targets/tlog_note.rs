//! Signed notes and checkpoints as a log, a witness or an audit bundle hands them over:
//! parsing must never panic, a note that parses prints back to the same note, a checkpoint
//! that parses prints back to the same text, and verification against known keys (an
//! Ed25519 log key and a cosigner key) only ever returns a result.
#![no_main]

use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::cosignature::{timestamp, CosignatureVerifier};
use ironroot_tlog::note::{Ed25519NoteSigner, Ed25519NoteVerifier, Note, NoteVerifier, VerifierKey};
use libfuzzer_sys::fuzz_target;

/// golang.org/x/mod/sumdb/note's example key; the seeds are signed by it.
const LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/// The same public key as a cosigner (type 0x04) key.
const WITNESS_PUBLIC: [u8; 32] = [
    0x1a, 0x5c, 0xd9, 0x07, 0x14, 0x3c, 0x38, 0x4c, 0x41, 0xe8, 0x30, 0xc5, 0xbc, 0xe1, 0x2a, 0xa8,
    0x81, 0x7e, 0xc5, 0x64, 0x9a, 0xaa, 0xbf, 0x2c, 0x31, 0x38, 0x8b, 0x35, 0xb2, 0xd7, 0x44, 0xd6,
];

fuzz_target!(|data: &[u8]| {
    let Ok(log) = Ed25519NoteVerifier::parse(LOG_KEY) else {
        return;
    };
    let Ok(witness_key) = VerifierKey::ed25519("witness.example.com/w1", 0x04, &WITNESS_PUBLIC) else {
        return;
    };
    let Ok(witness) = CosignatureVerifier::from_key(&witness_key) else {
        return;
    };

    if let Ok(note) = Note::parse(data) {
        let again = Note::parse(note.to_text().as_bytes());
        assert_eq!(again.as_ref(), Ok(&note), "note does not print back");
        for s in note.signatures() {
            let _ = timestamp(s);
        }
        if let Ok(c) = Checkpoint::parse(note.unverified_text()) {
            assert_eq!(c.to_text(), note.unverified_text(), "checkpoint does not print back");
        }
        let known: [&dyn NoteVerifier; 2] = [&log, &witness];
        let _ = note.verify(&known);
        let _ = Checkpoint::open(data, &known);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Checkpoint::parse(text) {
            assert_eq!(c.to_text(), text, "checkpoint does not print back");
        }
        let first = text.lines().next().unwrap_or_default();
        let _ = VerifierKey::parse(first);
        let _ = Ed25519NoteSigner::parse(first);
    }
});
