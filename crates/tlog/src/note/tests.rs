//! golang.org/x/mod/sumdb/note's note_test.go vectors (the PeterNeumann and EnochRoot keys,
//! see tests/fixtures/README.md) and the signed-note rules.

use super::*;

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Ed25519NoteVerifier {
    Ed25519NoteVerifier::parse(PETER_VKEY).unwrap()
}

fn enoch() -> Ed25519NoteVerifier {
    Ed25519NoteVerifier::parse(ENOCH_VKEY).unwrap()
}

#[test]
fn go_signer_reproduces_the_published_note_byte_for_byte() {
    let signer = Ed25519NoteSigner::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.verifier_key().to_text(), PETER_VKEY);
    assert_eq!(signer.to_signer_key().unwrap().as_str(), PETER_SKEY);
    let note = Note::new(TEXT.to_owned(), vec![signer.sign(TEXT)]).unwrap();
    assert_eq!(note.to_text(), format!("{TEXT}\n{PETER_SIG}"));
}

#[test]
fn go_verifier_keys_parse_and_every_mangling_is_refused() {
    let key = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!(
        (key.name.as_str(), key.key_id, key.sig_type),
        ("PeterNeumann", 0xc74f20a3, 1)
    );
    assert_eq!(key.to_text(), PETER_VKEY);
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if (i, j) != (0, b.len()) {
                let part = String::from_utf8_lossy(&b[i..j]);
                assert!(Ed25519NoteVerifier::parse(&part).is_err(), "{part}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let m = String::from_utf8_lossy(&m);
        assert!(Ed25519NoteVerifier::parse(&m).is_err(), "{m}");
    }
    // Wrong key length and unknown type, each with a matching key id.
    assert!(Ed25519NoteVerifier::parse(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    )
    .is_err());
    assert!(Ed25519NoteVerifier::parse(
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    .is_err());
}

#[test]
fn go_signer_key_manglings_are_refused() {
    let b = PETER_SKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if (i, j) != (0, b.len()) {
                let part = String::from_utf8_lossy(&b[i..j]);
                assert!(Ed25519NoteSigner::parse(&part).is_err(), "{part}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let m = String::from_utf8_lossy(&m);
        assert!(Ed25519NoteSigner::parse(&m).is_err(), "{m}");
    }
}

#[test]
fn go_open_cases() {
    let (p, e) = (peter(), enoch());
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let v = Note::parse(both.as_bytes()).unwrap().verify(&[&p]).unwrap();
    assert_eq!(v.text(), TEXT);
    assert_eq!(v.verified().len(), 1);
    assert_eq!(v.verified()[0].key_id, 0xc74f20a3);
    assert_eq!(v.unverified()[0].key_id, 0xaf0cfe78);
    let v = Note::parse(both.as_bytes())
        .unwrap()
        .verify(&[&p, &e])
        .unwrap();
    assert_eq!(v.verified().len(), 2);
    assert_eq!(
        Note::parse(both.as_bytes()).unwrap().verify(&[]),
        Err(NoteError::NoVerifiedSignature)
    );
    // A duplicated verifier is ambiguous only when a signature needs it.
    let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
    assert!(matches!(
        Note::parse(only_enoch.as_bytes())
            .unwrap()
            .verify(&[&e, &p, &e]),
        Err(NoteError::AmbiguousKey { .. })
    ));
    let only_peter = format!("{TEXT}\n{PETER_SIG}");
    assert!(Note::parse(only_peter.as_bytes())
        .unwrap()
        .verify(&[&e, &p, &e])
        .is_ok());
    // More than the limit of signatures.
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_eq!(
        Note::parse(many.as_bytes()),
        Err(NoteError::TooManySignatures)
    );
    // A known key's bad signature rejects the whole note.
    let at = PETER_SIG.len() - 30;
    let corrupt = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..at], &PETER_SIG[at..]);
    assert!(matches!(
        Note::parse(corrupt.as_bytes()).unwrap().verify(&[&p]),
        Err(NoteError::InvalidSignature { .. })
    ));
    let changed = format!("{TEXT}\n{PETER_SIG}").replace("cryptography", "cryptographY");
    assert!(Note::parse(changed.as_bytes())
        .unwrap()
        .verify(&[&p])
        .is_err());
}

#[test]
fn go_malformed_messages() {
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!("{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\r\n{PETER_SIG}"),
        format!("{TEXT}\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann AAAA\n"),
        format!("{TEXT}\n\u{2014} PeterNeumann not-base64!\n"),
    ];
    for msg in bad {
        assert!(Note::parse(msg.as_bytes()).is_err(), "{msg:?}");
    }
    assert_eq!(Note::parse(b"\xff\n\nx"), Err(NoteError::NotUtf8));
    let huge = vec![b'a'; MAX_NOTE_BYTES + 1];
    assert_eq!(
        Note::parse(&huge),
        Err(NoteError::TooLarge(MAX_NOTE_BYTES + 1))
    );
}

#[test]
fn unknown_key_with_a_known_name_or_id_is_ignored() {
    let other = Ed25519NoteSigner::generate("PeterNeumann").unwrap();
    let text = format!("{TEXT}\n{PETER_SIG}{}", other.sign(TEXT).to_line());
    let v = Note::parse(text.as_bytes())
        .unwrap()
        .verify(&[&peter()])
        .unwrap();
    assert_eq!((v.verified().len(), v.unverified().len()), (1, 1));
}

#[test]
fn generated_keys_round_trip_and_sign_what_verifies() {
    let signer = Ed25519NoteSigner::generate("example.com/log").unwrap();
    let again = Ed25519NoteSigner::parse(&signer.to_signer_key().unwrap()).unwrap();
    assert_eq!(again.verifier_key(), signer.verifier_key());
    let verifier = Ed25519NoteVerifier::parse(&signer.verifier_key().to_text()).unwrap();
    let mut note = Note::new("a\n\nb\n".to_owned(), vec![]).unwrap();
    note.add_signature(signer.sign("a\n\nb\n")).unwrap();
    note.add_signature(again.sign("a\n\nb\n")).unwrap();
    assert_eq!(note.signatures().len(), 1, "same key replaces");
    let v = Note::parse(note.to_text().as_bytes())
        .unwrap()
        .verify(&[&verifier])
        .unwrap();
    assert_eq!(v.text(), "a\n\nb\n");
    assert!(Ed25519NoteSigner::generate("bad name").is_err());
    assert!(Ed25519NoteSigner::generate("a+b").is_err());
    // Debug output never shows the seed.
    use base64::Engine;
    let skey = signer.to_signer_key().unwrap();
    let blob = skey.splitn(5, '+').last().unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .unwrap();
    let debug = format!("{signer:?}");
    assert!(!debug.contains(&format!("{:02x?}", &seed[1..])), "{debug}");
    assert!(!debug.contains(blob), "{debug}");
}
