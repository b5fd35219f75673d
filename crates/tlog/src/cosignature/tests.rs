use super::*;
use crate::checkpoint::Checkpoint;
use crate::note::{Ed25519NoteSigner, Ed25519NoteVerifier, Note};

/// The example note of c2sp.org/tlog-cosignature: its witness line carries the timestamp of
/// the spec's signed-message example, 1679315147.
#[test]
fn spec_example_cosignature_carries_its_timestamp() {
    let note = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    let parsed = Note::parse(note.as_bytes()).unwrap();
    let witness = &parsed.signatures()[1];
    assert_eq!(witness.key_id, 0x8d66cf3f);
    assert_eq!(timestamp(witness), Some(1679315147));
    assert_eq!(
        signed_message(parsed.unverified_text(), 1679315147),
        "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn a_witness_cosignature_verifies_beside_the_log_signature() {
    let log = Ed25519NoteSigner::generate("example.com/log").unwrap();
    let witness = Cosigner::new(
        "witness.example.com/w1",
        ironroot_crypto::Ed25519SigningKey::generate().unwrap(),
    )
    .unwrap();
    let key = witness.verifier_key();
    assert_eq!(key.sig_type, SIG_TYPE_COSIGNATURE_V1);
    assert_eq!(key.key_id, key_id(&key.name, 0x04, &key.public_key));
    let cosigs = CosignatureVerifier::parse(&key.to_text()).unwrap();
    let log_key = Ed25519NoteVerifier::from_key(&log.verifier_key()).unwrap();
    // A type 0x01 key string is not a cosigner key, and the reverse.
    assert!(CosignatureVerifier::from_key(&log.verifier_key()).is_err());
    assert!(Ed25519NoteVerifier::from_key(&key).is_err());

    let text = Checkpoint {
        origin: "example.com/log".into(),
        size: 9,
        root: [1; 32],
        extensions: vec![],
    }
    .to_text();
    let mut note = Note::new(text.clone(), vec![log.sign(&text)]).unwrap();
    note.add_signature(witness.cosign(&text, 1_700_000_000).unwrap())
        .unwrap();
    let wire = note.to_text();

    let v = Note::parse(wire.as_bytes())
        .unwrap()
        .verify(&[&log_key, &cosigs])
        .unwrap();
    assert_eq!(v.verified().len(), 2);
    assert_eq!(timestamp(&v.verified()[1]), Some(1_700_000_000));
    // The witness alone, as a client checking a quorum would.
    assert!(Note::parse(wire.as_bytes())
        .unwrap()
        .verify(&[&cosigs])
        .is_ok());

    // A changed timestamp no longer verifies.
    let mut moved = witness.cosign(&text, 1_700_000_000).unwrap();
    moved.signature[7] ^= 1;
    let mut note = Note::new(text.clone(), vec![moved]).unwrap();
    assert!(matches!(
        note.clone().verify(&[&cosigs]),
        Err(NoteError::InvalidSignature { .. })
    ));
    // Out-of-range timestamps are neither made nor accepted.
    assert!(witness.cosign(&text, MAX_TIMESTAMP + 1).is_err());
    let mut late = witness.cosign(&text, 5).unwrap();
    late.signature[0] = 0x80;
    assert_eq!(timestamp(&late), None);
    note.add_signature(late).unwrap();
    assert!(note.verify(&[&cosigs]).is_err());
}
