//! A witness's state file and key string, as `ironroot audit witness` reads them from disk
//! (docs/audit.md, "The witness"): parsing never panics, a state that parses writes back
//! to a file that parses to the same state, and a parsed key string gives a cosigner
//! whose cosignatures verify. The input is also decided on as a served checkpoint against
//! the seeds' size-7 state: a decision is always reached, never a panic.
#![no_main]

use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::note::Ed25519NoteVerifier;
use ironroot_tlog::witness::state::WitnessState;
use ironroot_tlog::witness::{decide, key, proof_needed};
use libfuzzer_sys::fuzz_target;

/// golang.org/x/mod/sumdb/note's example key; the seeds' checkpoints are signed by it.
const LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    let Ok(log) = Ed25519NoteVerifier::parse(LOG_KEY) else {
        return;
    };
    if let Ok(state) = WitnessState::parse(data, &log) {
        let again = WitnessState::parse(state.to_file().as_bytes(), &log);
        assert_eq!(again.as_ref(), Ok(&state), "state does not write back");
        let c = state.checkpoint();
        let seen = Checkpoint { size: 7, ..c.clone() };
        let _ = proof_needed(Some(&seen), c);
        let v = decide(Some(&seen), c, &[]);
        assert!(!(v.advances() && v.is_inconsistent()), "{v:?}");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let first = text.lines().next().unwrap_or_default();
        if let Ok(cosigner) = key::parse(first) {
            let vkey = cosigner.verifier_key();
            let verifier = ironroot_tlog::cosignature::CosignatureVerifier::from_key(&vkey);
            assert!(verifier.is_ok(), "a parsed key gives a verifier key");
        }
    }
});
