use super::*;
use crate::note::{Ed25519NoteSigner, Ed25519NoteVerifier, Note};

/// The example of c2sp.org/tlog-checkpoint.
const SPEC_TEXT: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

#[test]
fn spec_example_parses_and_prints_back() {
    let c = Checkpoint::parse(SPEC_TEXT).unwrap();
    assert_eq!(c.origin, "example.com/behind-the-sofa");
    assert_eq!(c.size, 20852163);
    assert_eq!(c.root[..2], [0x0a, 0xc5]);
    assert!(c.extensions.is_empty());
    assert_eq!(c.to_text(), SPEC_TEXT);
    let with_ext = format!("{SPEC_TEXT}ext one\n");
    assert_eq!(
        Checkpoint::parse(&with_ext).unwrap().extensions,
        ["ext one"]
    );
}

#[test]
fn every_malformation_has_its_error() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cases: Vec<(String, CheckpointError)> = vec![
        (format!("o\n1\n{root}"), CheckpointError::NoFinalNewline),
        ("o\n1\n".into(), CheckpointError::TooFewLines),
        (format!("\n1\n{root}\n"), CheckpointError::EmptyOrigin),
        (format!("o\n01\n{root}\n"), CheckpointError::BadTreeSize),
        (format!("o\n+1\n{root}\n"), CheckpointError::BadTreeSize),
        (format!("o\n\n{root}\n"), CheckpointError::BadTreeSize),
        (
            format!("o\n18446744073709551616\n{root}\n"),
            CheckpointError::BadTreeSize,
        ),
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".into(),
            CheckpointError::BadRootHash,
        ),
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".into(),
            CheckpointError::BadRootHash,
        ),
        ("o\n1\nAAAA\n".into(), CheckpointError::BadRootHash),
        (
            format!("o\n1\n{root}\n\n"),
            CheckpointError::EmptyExtension(4),
        ),
        (
            format!("o\r\n1\n{root}\n"),
            CheckpointError::ControlCharacter(1),
        ),
        (
            format!("o\n1\n{root}\n{}\n", "x".repeat(MAX_LINE_BYTES + 1)),
            CheckpointError::LineTooLong(4),
        ),
        (
            format!("o\n1\n{root}\n{}", "e\n".repeat(MAX_EXTENSION_LINES + 1)),
            CheckpointError::TooManyLines,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Checkpoint::parse(&text), Err(want), "{text:?}");
    }
    assert_eq!(
        Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
        0
    );
    assert_eq!(
        Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
            .unwrap()
            .size,
        u64::MAX
    );
}

#[test]
fn open_requires_the_log_key_named_as_the_origin() {
    let log = Ed25519NoteSigner::generate("example.com/log").unwrap();
    let verifier = Ed25519NoteVerifier::from_key(&log.verifier_key()).unwrap();
    let checkpoint = Checkpoint {
        origin: "example.com/log".into(),
        size: 3,
        root: [7u8; 32],
        extensions: vec![],
    };
    let text = checkpoint.to_text();
    let note = Note::new(text.clone(), vec![log.sign(&text)])
        .unwrap()
        .to_text();
    let (opened, _) = Checkpoint::open(note.as_bytes(), &[&verifier]).unwrap();
    assert_eq!(opened, checkpoint);

    let other = Checkpoint {
        origin: "example.com/other".into(),
        ..checkpoint
    };
    let text = other.to_text();
    let note = Note::new(text.clone(), vec![log.sign(&text)])
        .unwrap()
        .to_text();
    assert!(matches!(
        Checkpoint::open(note.as_bytes(), &[&verifier]),
        Err(CheckpointError::NotSignedByOrigin(_))
    ));
    let forged = note.replace("\n3\n", "\n4\n");
    assert!(matches!(
        Checkpoint::open(forged.as_bytes(), &[&verifier]),
        Err(CheckpointError::Note(_))
    ));
}
