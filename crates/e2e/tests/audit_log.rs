//! End to end: a real service logs a host's trust decision in its transparency log, and
//! an auditor proves it offline from the published checkpoint and key alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_crypto::{digest, HashAlg};
use ironroot_e2e::{peers_available, trusted_sessions, Node, Platform, TempDir};
use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::merkle::{hash_from_slice, leaf_hash, verify_consistency, verify_inclusion};
use ironroot_tlog::note::{Ed25519NoteVerifier, NoteVerifier};

#[tokio::test]
async fn a_trust_decision_is_proved_by_the_signed_log() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("e2e-audit").unwrap();
    let node = Node::boot(&dir.0, "audited").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let sessions = trusted_sessions(&p, std::slice::from_ref(&node))
        .await
        .unwrap();
    let (session, host_id) = &sessions[0];
    let verdict = session.attest_once().await.unwrap();
    assert!(verdict.trusted);

    // What an auditor trusts: the key. Everything else is checked against it.
    let key = p.admin.audit_key().await.unwrap();
    let verifier = Ed25519NoteVerifier::parse(&key).unwrap();
    let keys: [&dyn NoteVerifier; 1] = [&verifier];
    let note = p.admin.audit_checkpoint().await.unwrap();
    let (cp, _) = Checkpoint::open(note.as_bytes(), &keys).unwrap();
    assert!(cp.origin.ends_with("/ironroot-log"), "{}", cp.origin);

    let page = p.admin.audit_entries(0, Some(cp.size)).await.unwrap();
    let entry = page
        .entries
        .iter()
        .find(|e| e.kind == "trust.decision" && e.body["report_id"] == verdict.report_id.as_str())
        .expect("the verdict's entry is in the checkpointed log");
    assert_eq!(entry.subject, format!("host/{host_id}"));
    assert_eq!(entry.body["verdict"], "trusted");
    assert_eq!(
        entry.body["report_jws_sha256"],
        hex::encode(digest(HashAlg::Sha256, verdict.report_jws.as_bytes()))
    );

    let proof = p
        .admin
        .audit_inclusion_proof(entry.index, cp.size)
        .await
        .unwrap();
    let hashes: Vec<_> = proof
        .hashes
        .iter()
        .map(|h| hash_from_slice(&h.0).unwrap())
        .collect();
    let leaf = leaf_hash(&entry.leaf_data().unwrap());
    verify_inclusion(entry.index, cp.size, &leaf, &hashes, &cp.root).unwrap();
    // A changed entry no longer verifies.
    let mut forged = entry.clone();
    forged.body["verdict"] = "untrusted".into();
    let forged_leaf = leaf_hash(&forged.leaf_data().unwrap());
    assert!(verify_inclusion(entry.index, cp.size, &forged_leaf, &hashes, &cp.root).is_err());

    // The log only grows: a later checkpoint is consistent with this one.
    session.attest_once().await.unwrap();
    let later = p.admin.audit_checkpoint().await.unwrap();
    let (later, _) = Checkpoint::open(later.as_bytes(), &keys).unwrap();
    assert!(later.size > cp.size);
    let proof = p
        .admin
        .audit_consistency_proof(cp.size, later.size)
        .await
        .unwrap();
    let hashes: Vec<_> = proof
        .hashes
        .iter()
        .map(|h| hash_from_slice(&h.0).unwrap())
        .collect();
    verify_consistency(cp.size, later.size, &cp.root, &later.root, &hashes).unwrap();
}
