#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::state::{StateError, WitnessState, MAX_STATE_BYTES};
use super::*;
use crate::cosignature::CosignatureVerifier;
use crate::merkle::{consistency_proof, root, MemoryTree};
use crate::note::Ed25519NoteSigner;

const ORIGIN: &str = "example.com/log";

fn tree(leaves: &[&str]) -> MemoryTree {
    MemoryTree::from_leaves(leaves)
}

fn checkpoint(t: &MemoryTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root(t, size).unwrap(),
        extensions: vec![],
    }
}

fn signed(log: &Ed25519NoteSigner, c: &Checkpoint) -> String {
    let text = c.to_text();
    Note::new(text.clone(), vec![log.sign(&text)])
        .unwrap()
        .to_text()
}

fn verifier(log: &Ed25519NoteSigner) -> Ed25519NoteVerifier {
    Ed25519NoteVerifier::from_key(&log.verifier_key()).unwrap()
}

const HISTORY: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

#[test]
fn the_first_checkpoint_is_accepted_and_needs_no_proof() {
    let t = tree(&HISTORY);
    let c = checkpoint(&t, 5);
    assert_eq!(proof_needed(None, &c), None);
    assert_eq!(decide(None, &c, &[]), Verdict::First);
    assert!(Verdict::First.advances() && !Verdict::First.is_inconsistent());
}

#[test]
fn the_same_tree_head_is_unchanged() {
    let t = tree(&HISTORY);
    let c = checkpoint(&t, 5);
    assert_eq!(proof_needed(Some(&c), &c), None);
    let v = decide(Some(&c), &c, &[]);
    assert_eq!(v, Verdict::Same);
    assert!(!v.advances() && !v.is_inconsistent());
}

#[test]
fn a_larger_tree_with_a_valid_consistency_proof_is_consistent() {
    let t = tree(&HISTORY);
    for from in 1..7 {
        let (old, new) = (checkpoint(&t, from), checkpoint(&t, 7));
        assert_eq!(proof_needed(Some(&old), &new), Some((from, 7)));
        let proof = consistency_proof(&t, from, 7).unwrap();
        let v = decide(Some(&old), &new, &proof);
        assert_eq!(v, Verdict::Consistent { from });
        assert!(v.advances());
    }
    // From the empty tree nothing is needed, and a stray proof is ignored.
    let (empty, new) = (checkpoint(&t, 0), checkpoint(&t, 3));
    assert_eq!(proof_needed(Some(&empty), &new), None);
    assert_eq!(
        decide(Some(&empty), &new, &[[7; 32]]),
        Verdict::Consistent { from: 0 }
    );
}

#[test]
fn a_smaller_tree_is_a_rollback_naming_both_sizes() {
    let t = tree(&HISTORY);
    let (old, new) = (checkpoint(&t, 7), checkpoint(&t, 4));
    assert_eq!(proof_needed(Some(&old), &new), None);
    let v = decide(Some(&old), &new, &[]);
    assert_eq!(
        v,
        Verdict::Rollback {
            seen: TreeHead::of(&old),
            served: TreeHead::of(&new)
        }
    );
    assert!(v.is_inconsistent() && !v.advances());
    let text = v.to_string();
    assert!(
        text.starts_with("rollback: the log serves size 4 (root ") && text.contains("size 7"),
        "{text}"
    );
}

#[test]
fn the_same_size_with_another_root_is_a_fork() {
    let honest = tree(&HISTORY);
    let other = tree(&["a", "b", "X", "d", "e"]);
    let (old, new) = (checkpoint(&honest, 5), checkpoint(&other, 5));
    let v = decide(Some(&old), &new, &[]);
    assert_eq!(
        v,
        Verdict::Fork {
            seen: TreeHead::of(&old),
            served: TreeHead::of(&new),
            why: ForkReason::SameSizeDifferentRoot
        }
    );
    assert!(v.is_inconsistent());
    assert!(v
        .to_string()
        .contains("the same size with a different root"));
}

#[test]
fn a_larger_tree_of_another_history_is_a_fork_whatever_proof_the_log_sends() {
    let honest = tree(&HISTORY);
    let other = tree(&["a", "b", "X", "d", "e", "f", "g"]);
    let (old, new) = (checkpoint(&honest, 5), checkpoint(&other, 7));
    let candidates = [
        consistency_proof(&other, 5, 7).unwrap(),
        consistency_proof(&honest, 5, 7).unwrap(),
        vec![],
    ];
    for proof in candidates {
        let v = decide(Some(&old), &new, &proof);
        assert!(
            matches!(
                v,
                Verdict::Fork {
                    why: ForkReason::ProofFailed(_),
                    ..
                }
            ),
            "{v:?}"
        );
    }
}

#[test]
fn a_checkpoint_not_signed_by_the_log_key_is_refused_before_any_decision() {
    let t = tree(&HISTORY);
    let (log, impostor) = (
        Ed25519NoteSigner::generate(ORIGIN).unwrap(),
        Ed25519NoteSigner::generate(ORIGIN).unwrap(),
    );
    let c = checkpoint(&t, 3);
    let (opened, _) = open(signed(&log, &c).as_bytes(), &verifier(&log)).unwrap();
    assert_eq!(opened, c);
    let e = open(signed(&impostor, &c).as_bytes(), &verifier(&log)).unwrap_err();
    assert!(matches!(e, OpenError::BadSignature(_)), "{e:?}");
    assert!(open(b"not a note", &verifier(&log)).is_err());
}

#[test]
fn a_cosigned_note_verifies_with_the_log_and_the_witness_key() {
    let t = tree(&HISTORY);
    let log = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let (witness, secret) = key::generate("witness.example.com/w1").unwrap();
    let note = signed(&log, &checkpoint(&t, 7));
    let cosigned = cosigned_note(note.as_bytes(), &witness, 1_700_000_000).unwrap();
    let w = CosignatureVerifier::from_key(&witness.verifier_key()).unwrap();
    let l = verifier(&log);
    let known: [&dyn NoteVerifier; 2] = [&l, &w];
    let verified = Note::parse(cosigned.as_bytes())
        .unwrap()
        .verify(&known)
        .unwrap();
    assert_eq!(verified.verified().len(), 2);
    assert_eq!(
        crate::cosignature::timestamp(&verified.verified()[1]),
        Some(1_700_000_000)
    );
    // The key string gives back the same witness.
    let again = key::parse(&secret).unwrap();
    assert_eq!(again.verifier_key(), witness.verifier_key());
}

#[test]
fn key_strings_of_another_type_or_a_wrong_id_are_refused() {
    let (_, secret) = key::generate("w").unwrap();
    let log_key = Ed25519NoteSigner::generate("w")
        .unwrap()
        .to_signer_key()
        .unwrap();
    assert!(key::parse(&log_key).is_err(), "a type 0x01 key");
    let (head, tail) = secret.rsplit_once('+').unwrap();
    let (prefix, _) = head.rsplit_once('+').unwrap();
    assert!(key::parse(&format!("{prefix}+00000000+{tail}")).is_err());
    assert!(key::parse("PRIVATE+KEY+w+zz+AA==").is_err());
    assert!(key::parse(&"x".repeat(2000)).is_err());
}

#[test]
fn a_state_file_round_trips_and_reverifies_its_checkpoint() {
    let t = tree(&HISTORY);
    let log = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let note = signed(&log, &checkpoint(&t, 6));
    let state = WitnessState::accept(&note, &verifier(&log)).unwrap();
    assert_eq!(state.checkpoint().size, 6);
    let file = state.to_file();
    assert_eq!(
        WitnessState::parse(file.as_bytes(), &verifier(&log)).unwrap(),
        state
    );
    // Another log's key: the file is not this log's state.
    let other = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    assert!(matches!(
        WitnessState::parse(file.as_bytes(), &verifier(&other)),
        Err(StateError::Checkpoint(_))
    ));
}

#[test]
fn an_edited_state_file_is_refused_with_the_field_named() {
    let t = tree(&HISTORY);
    let log = Ed25519NoteSigner::generate(ORIGIN).unwrap();
    let note = signed(&log, &checkpoint(&t, 6));
    let file = WitnessState::accept(&note, &verifier(&log))
        .unwrap()
        .to_file();
    let key = verifier(&log);
    let parse = |s: &str| WitnessState::parse(s.as_bytes(), &key);
    assert_eq!(
        parse(&file.replace("\"size\": 6", "\"size\": 2")),
        Err(StateError::Mismatch("size"))
    );
    let root = B64.encode(root(&t, 6).unwrap());
    let zero = B64.encode([0u8; 32]);
    assert_eq!(
        parse(&file.replace(
            &format!("\"root\": \"{root}\""),
            &format!("\"root\": \"{zero}\"")
        ))
        .unwrap_err(),
        StateError::Mismatch("root")
    );
    assert_eq!(
        parse(&file.replace("\"version\": 1", "\"version\": 2")),
        Err(StateError::Version(2))
    );
    assert!(matches!(
        parse(&file.replace("\"version\"", "\"extra\": 0, \"version\"")),
        Err(StateError::Malformed(_))
    ));
    assert!(matches!(parse(""), Err(StateError::Malformed(_))));
    // The note itself edited: its signature fails.
    let forged = file.replace("\\n6\\n", "\\n9\\n");
    assert!(matches!(parse(&forged), Err(StateError::Checkpoint(_))));
    let huge = " ".repeat(MAX_STATE_BYTES + 1);
    assert_eq!(parse(&huge), Err(StateError::TooLarge));
}

/// The fuzz seeds, written by an independent Python implementation of the state file
/// and key string (`fuzz/examples/tlog_witness_state_seed.py`), read as this module
/// writes them.
#[test]
fn the_python_written_seeds_parse_as_the_rust_witness_reads_them() {
    const GO_LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let key = Ed25519NoteVerifier::parse(GO_LOG_KEY).unwrap();
    let state = WitnessState::parse(
        include_bytes!("../../../../fuzz/seeds/tlog_witness_state/size-7.json"),
        &key,
    )
    .unwrap();
    assert_eq!(state.checkpoint().size, 7);
    assert_eq!(
        WitnessState::parse(state.to_file().as_bytes(), &key).unwrap(),
        state
    );
    let empty = WitnessState::parse(
        include_bytes!("../../../../fuzz/seeds/tlog_witness_state/empty-log.json"),
        &key,
    )
    .unwrap();
    assert_eq!(empty.checkpoint().root, crate::merkle::empty_root());
    assert_eq!(
        WitnessState::parse(
            include_bytes!("../../../../fuzz/seeds/tlog_witness_state/edited-size.json"),
            &key,
        ),
        Err(StateError::Mismatch("size"))
    );
    let w = key::parse(
        include_str!("../../../../fuzz/seeds/tlog_witness_state/witness-key.txt").trim(),
    )
    .unwrap();
    assert_eq!(w.verifier_key().name, "witness.example.com/w1");
}
