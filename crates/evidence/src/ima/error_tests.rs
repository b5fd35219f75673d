//! Tests for every way an IMA list is rejected, in both forms.

use super::tests::sample;
use super::*;

fn at_line(n: usize) -> ImaPosition {
    ImaPosition::Line(n)
}

fn line_error(line: &str) -> ImaError {
    let good = sample().to_ascii();
    let text = format!("{good}{line}\n");
    ImaLog::parse(text.as_bytes()).unwrap_err()
}

#[test]
fn ascii_errors_name_the_line() {
    let good = sample().log().entries[1].clone();
    let h = good.template_hash_sha1.hex();
    let d = good.file_digest.hex();
    let at = at_line(5);
    let cases = [
        (
            format!("10 {h} ima-ng sha256:{d}"),
            ImaError::MalformedLine {
                at,
                reason: "no path",
            },
        ),
        (
            format!("10 {h} ima-ng"),
            ImaError::MalformedLine {
                at,
                reason: "fewer than five fields",
            },
        ),
        (
            format!("24 {h} ima-ng sha256:{d} /usr/bin/runc"),
            ImaError::PcrIndexOutOfRange { at },
        ),
        (
            format!("-1 {h} ima-ng sha256:{d} /usr/bin/runc"),
            ImaError::PcrIndexOutOfRange { at },
        ),
        (
            format!("10 {h}zz ima-ng sha256:{d} /usr/bin/runc"),
            ImaError::BadHex {
                at,
                field: "template hash",
            },
        ),
        (
            format!("10 {h} ima-ng sha256:{d}0 /usr/bin/runc"),
            ImaError::BadHex {
                at,
                field: "file digest",
            },
        ),
        (
            format!("10 {h} ima-ng sha256:{d}00 /usr/bin/runc"),
            ImaError::DigestLength {
                at,
                field: "file digest",
                expected: 32,
                found: 33,
            },
        ),
        (
            format!("10 {h}00 ima-ng sha256:{d} /usr/bin/runc"),
            ImaError::DigestLength {
                at,
                field: "template hash",
                expected: 20,
                found: 21,
            },
        ),
        (
            format!("10 {h} ima-ng md5:{d} /usr/bin/runc"),
            ImaError::UnknownAlgorithm { at },
        ),
        (
            format!("10 {h} ima-ng SHA256:{d} /usr/bin/runc"),
            ImaError::UnknownAlgorithm { at },
        ),
        (
            format!("10 {h} ima-ng {d} /usr/bin/runc"),
            ImaError::MalformedLine {
                at,
                reason: "file digest has no \"<alg>:\" prefix",
            },
        ),
        (
            format!("10 {h} ima sha256:{d} /usr/bin/runc"),
            ImaError::UnsupportedTemplate {
                at,
                name: "ima".into(),
            },
        ),
        (
            format!("10 {h} ima-buf sha256:{d} /usr/bin/runc"),
            ImaError::UnsupportedTemplate {
                at,
                name: "ima-buf".into(),
            },
        ),
        (
            format!("10 {h} ima-ng sha256:{d} /usr/bin/runc2"),
            ImaError::TemplateHashMismatch { at },
        ),
        (
            format!("10 {h} ima-ng sha256:{d} /usr/bin\0runc"),
            ImaError::BadPath {
                at,
                reason: "contains NUL or newline",
            },
        ),
        (
            format!("10 {h} ima-sig sha256:{d} /usr/bin/runc 0x"),
            ImaError::BadHex {
                at,
                field: "signature",
            },
        ),
        (
            format!("10 {h} ima-sig sha256:{d}"),
            ImaError::MalformedLine {
                at,
                reason: "no path",
            },
        ),
    ];
    for (line, want) in cases {
        assert_eq!(line_error(&line), want, "{line}");
    }
    let long = format!("10 {h} ima-ng sha256:{d} /{}", "a".repeat(MAX_PATH_BYTES));
    assert!(matches!(
        line_error(&long),
        ImaError::BadPath {
            reason: "longer than PATH_MAX",
            ..
        }
    ));
}

#[test]
fn ascii_structure_errors() {
    let good = sample().to_ascii();
    let blank = format!("{good}\n{good}");
    assert_eq!(
        ImaLog::parse(blank.as_bytes()).unwrap_err(),
        ImaError::MalformedLine {
            at: at_line(5),
            reason: "fewer than five fields"
        }
    );
    let mut bytes = good.clone().into_bytes();
    bytes.extend_from_slice(b"10 \xff\n");
    assert!(matches!(
        ImaLog::parse(&bytes).unwrap_err(),
        ImaError::MalformedLine {
            reason: "not UTF-8",
            ..
        }
    ));
    let no_final_newline = good.trim_end_matches('\n');
    assert_eq!(
        ImaLog::parse(no_final_newline.as_bytes())
            .unwrap()
            .entries
            .len(),
        4
    );
    assert_eq!(ImaLog::parse(b"").unwrap(), ImaLog::default());
}

#[test]
fn every_binary_truncation_is_reported_as_truncated() {
    let bytes = sample().to_binary();
    let mut ok_cuts = 0;
    for cut in 0..bytes.len() {
        match ImaLog::parse(&bytes[..cut]) {
            Ok(_) => ok_cuts += 1,
            Err(ImaError::Truncated { .. }) => {}
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
    assert_eq!(ok_cuts, 4, "the empty prefix and three entry boundaries");
}

/// The binary form of one entry with the given template name and data.
fn binary_entry(name: &[u8], data: &[u8], hash: &[u8; 20]) -> Vec<u8> {
    let mut out = 10u32.to_le_bytes().to_vec();
    out.extend_from_slice(hash);
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn binary_error(name: &[u8], data: &[u8]) -> ImaError {
    let mut bytes = sample().to_binary();
    bytes.extend(binary_entry(name, data, &[0; 20]));
    ImaLog::parse(&bytes).unwrap_err()
}

#[test]
fn binary_errors_name_the_entry() {
    let at = ImaPosition::Entry(4);
    let good = sample().log().entries[1].template_data();
    let bad = |reason| ImaError::BadTemplateData { at, reason };
    assert_eq!(
        binary_error(b"ima", &good),
        ImaError::UnsupportedTemplate {
            at,
            name: "ima".into()
        }
    );
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        binary_error(b"ima-ng", &trailing),
        bad("bytes after the last field")
    );
    assert_eq!(
        binary_error(b"ima-sig", &good),
        bad("sig field overruns the data")
    );
    let mut no_nul = good.clone();
    no_nul[good.len() - 1] = b'x';
    assert_eq!(
        binary_error(b"ima-ng", &no_nul),
        bad("n-ng is not NUL-terminated")
    );
    let mut no_prefix = good.clone();
    no_prefix[4 + 6] = b';'; // "sha256:\0" -> "sha256;\0"
    assert_eq!(
        binary_error(b"ima-ng", &no_prefix),
        bad("d-ng has no \"<alg>:\\0\" prefix")
    );
    let mut bytes = sample().to_binary();
    bytes.extend(binary_entry(b"ima-ng", &good, &[1; 20]));
    assert_eq!(
        ImaLog::parse(&bytes).unwrap_err(),
        ImaError::TemplateHashMismatch { at }
    );
}

#[test]
fn binary_oversized_lengths_are_refused_before_reading() {
    let mut entry = binary_entry(b"ima-ng", b"", &[1; 20]);
    entry[24..28].copy_from_slice(&(MAX_TEMPLATE_NAME_BYTES as u32 + 1).to_le_bytes());
    assert!(matches!(
        ImaLog::parse(&entry).unwrap_err(),
        ImaError::TooLarge {
            what: "template name",
            ..
        }
    ));
    let mut entry = binary_entry(b"ima-ng", b"", &[1; 20]);
    entry[34..38].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        ImaLog::parse(&entry).unwrap_err(),
        ImaError::TooLarge {
            what: "template data",
            ..
        }
    ));
    let mut entry = binary_entry(
        b"ima-ng",
        &sample().log().entries[0].template_data(),
        &[1; 20],
    );
    entry[0] = 24;
    assert!(matches!(
        ImaLog::parse(&entry).unwrap_err(),
        ImaError::PcrIndexOutOfRange { .. }
    ));
    let huge = vec![b'1'; MAX_LIST_BYTES + 1];
    assert!(matches!(
        ImaLog::parse(&huge).unwrap_err(),
        ImaError::TooLarge { what: "list", .. }
    ));
}

#[test]
fn mutated_lists_never_panic() {
    let b = sample();
    for bytes in [b.to_ascii().into_bytes(), b.to_binary()] {
        let mut accepted = 0;
        for pos in 0..bytes.len() {
            let _ = ImaLog::parse(&bytes[..pos]);
            for flip in [0x01u8, 0x20, 0xFF] {
                let mut m = bytes.clone();
                m[pos] ^= flip;
                if let Ok(log) = ImaLog::parse(&m) {
                    let _ = log.replay(&[HashAlg::Sha256]);
                    accepted += 1;
                }
            }
        }
        // The template hash covers almost everything, so few mutations survive.
        assert!(accepted < bytes.len());
    }
}
