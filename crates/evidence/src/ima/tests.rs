//! Tests for the IMA list: both forms round trip through the builder, replay matches
//! manual extends, violations, and every way a list is rejected.

use super::template::IMA_SIG;
use super::*;
use ironroot_crypto::digest;

pub(super) fn sample() -> ImaListBuilder {
    let mut b = ImaListBuilder::new();
    b.boot_aggregate(&[0x11; 32]).unwrap();
    b.measure("/usr/bin/runc", HashAlg::Sha256, &[0x22; 32])
        .unwrap();
    b.measure("/opt/my app/run me", HashAlg::Sha256, &[0x33; 32])
        .unwrap();
    b.measure("/usr/lib/libc.so.6", HashAlg::Sha1, &[0x44; 20])
        .unwrap();
    b
}

#[test]
fn ascii_and_binary_round_trip() {
    let b = sample();
    let ascii = b.to_ascii();
    assert_eq!(ImaLog::parse(ascii.as_bytes()).unwrap(), *b.log());
    assert_eq!(ImaLog::parse(&b.to_binary()).unwrap(), *b.log());
    let first = ascii.lines().next().unwrap();
    assert!(first.starts_with("10 "));
    assert!(first.ends_with(&format!(
        " ima-ng sha256:{} boot_aggregate",
        "11".repeat(32)
    )));
    assert_eq!(
        ImaLog::parse(ascii.as_bytes()).unwrap().entries[2].path,
        "/opt/my app/run me"
    );
}

#[test]
fn template_data_layout_matches_the_kernel() {
    let e = sample().log().entries[1].clone();
    let mut want = Vec::new();
    want.extend_from_slice(&(8u32 + 32).to_le_bytes());
    want.extend_from_slice(b"sha256:\0");
    want.extend_from_slice(&[0x22; 32]);
    want.extend_from_slice(&14u32.to_le_bytes());
    want.extend_from_slice(b"/usr/bin/runc\0");
    assert_eq!(e.template_data(), want);
    assert_eq!(e.template_hash_sha1.0, digest(HashAlg::Sha1, &want));
    assert_eq!(
        e.template_hash(HashAlg::Sha256),
        digest(HashAlg::Sha256, &want)
    );
}

#[test]
fn replay_equals_manual_extends() {
    let log = sample().log().clone();
    let banks = [HashAlg::Sha1, HashAlg::Sha256];
    let mut expected = PcrValues::default();
    for e in &log.entries {
        for bank in banks {
            expected.extend(bank, 10, &digest(bank, &e.template_data()));
        }
    }
    assert_eq!(log.replay(&banks), expected);
    let empty = ImaLog::default().replay(&[HashAlg::Sha256]);
    assert_eq!(empty.banks().collect::<Vec<_>>(), vec![HashAlg::Sha256]);
}

#[test]
fn violations_extend_all_ones() {
    let zeros40 = "0".repeat(40);
    let zeros64 = "0".repeat(64);
    let text = format!(
        "10 {zeros40} ima-ng sha256:{zeros64} /var/log/open-for-write\n\
         10 {zeros40} ima-ng sha1: /old/kernel/violation\n"
    );
    let log = ImaLog::parse(text.as_bytes()).unwrap();
    assert!(log.entries.iter().all(ImaEntry::is_violation));
    assert!(log.entries[1].file_digest.0.is_empty());
    let mut expected = PcrValues::default();
    expected.extend(HashAlg::Sha256, 10, &[0xFF; 32]);
    expected.extend(HashAlg::Sha256, 10, &[0xFF; 32]);
    assert_eq!(log.replay(&[HashAlg::Sha256]), expected);
    assert_eq!(ImaLog::parse(&log.to_binary()).unwrap(), log);
    assert_eq!(log.to_ascii(), text);
}

#[test]
fn ima_sig_entries_with_and_without_signature() {
    let mut with = template::new_entry(10, HashAlg::Sha256, &[1; 32], "/bin/sh");
    with.template = IMA_SIG.to_string();
    with.signature = Some(Digest(vec![0x03, 0x02, 0xAA]));
    with.template_hash_sha1 = Digest(digest(HashAlg::Sha1, &with.template_data()));
    let mut without = with.clone();
    without.signature = Some(Digest(Vec::new()));
    without.template_hash_sha1 = Digest(digest(HashAlg::Sha1, &without.template_data()));
    let log = ImaLog {
        entries: vec![with, without],
    };
    let ascii = log.to_ascii();
    assert!(ascii.lines().next().unwrap().ends_with(" /bin/sh 0302aa"));
    assert!(ascii.lines().nth(1).unwrap().ends_with(" /bin/sh "));
    assert_eq!(ImaLog::parse(ascii.as_bytes()).unwrap(), log);
    assert_eq!(ImaLog::parse(&log.to_binary()).unwrap(), log);
}

#[test]
fn builder_refuses_bad_entries() {
    let mut b = ImaListBuilder::new();
    let at = ImaPosition::Entry(0);
    assert_eq!(
        b.measure("/x", HashAlg::Sha256, &[0; 20]),
        Err(ImaError::DigestLength {
            at,
            field: "file digest",
            expected: 32,
            found: 20
        })
    );
    assert_eq!(
        b.measure("/a\nb", HashAlg::Sha1, &[0; 20]),
        Err(ImaError::BadPath {
            at,
            reason: "contains NUL or newline"
        })
    );
    assert_eq!(
        b.measure("", HashAlg::Sha1, &[0; 20]),
        Err(ImaError::BadPath {
            at,
            reason: "empty"
        })
    );
    assert!(matches!(
        b.boot_aggregate(&[0; 7]),
        Err(ImaError::DigestLength { .. })
    ));
    assert!(b.log().entries.is_empty());
    let e = b.boot_aggregate(&[0; 20]).unwrap();
    assert_eq!(
        (e.file_digest_alg, e.path.as_str()),
        (HashAlg::Sha1, "boot_aggregate")
    );
}

#[test]
fn boot_aggregate_hashes_pcrs_0_to_9_except_for_sha1() {
    let mut pcrs = PcrValues::default();
    pcrs.set(HashAlg::Sha256, 0, vec![1; 32]);
    pcrs.set(HashAlg::Sha256, 9, vec![9; 32]);
    pcrs.set(HashAlg::Sha1, 8, vec![8; 20]);
    let mut input = vec![1u8; 32];
    input.extend(vec![0u8; 32 * 8]);
    input.extend(vec![9u8; 32]);
    assert_eq!(
        boot_aggregate(&pcrs, HashAlg::Sha256),
        digest(HashAlg::Sha256, &input)
    );
    assert_eq!(
        boot_aggregate(&pcrs, HashAlg::Sha1),
        digest(HashAlg::Sha1, &[0u8; 20 * 8]),
        "SHA-1 leaves out PCRs 8 and 9"
    );
}

#[test]
fn serialises_for_storage() {
    let e = sample().log().entries[1].clone();
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["file_digest_alg"], "sha256");
    assert_eq!(json["file_digest"], "22".repeat(32));
    assert!(json.get("signature").is_none());
    assert_eq!(serde_json::from_value::<ImaEntry>(json).unwrap(), e);
}
