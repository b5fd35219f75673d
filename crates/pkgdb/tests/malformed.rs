//! Hostile and broken databases: each gives its own error, naming where, and nothing panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ironroot_pkgdb::{
    parse_apk_installed, parse_dpkg_status, parse_dpkg_status_d, parse_rpm_header, Error, Limits,
};

fn read(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path),
    )
    .unwrap()
}

fn dpkg(input: &str) -> Result<usize, Error> {
    parse_dpkg_status(input.as_bytes(), &Limits::default()).map(|p| p.len())
}

const OK: &str = "Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nSource: b (2.0-0)\nArchitecture: amd64\nDescription: x\n more\n";

#[test]
fn dpkg_only_installed_and_held_packages_count() {
    let removed = OK.replace("install ok installed", "deinstall ok config-files");
    let held = OK.replace("install ok", "hold ok");
    assert_eq!(dpkg(&format!("{OK}\n{removed}\n{held}")), Ok(2));
    let half = OK.replace("installed", "half-installed");
    assert_eq!(dpkg(&half), Ok(0));
}

#[test]
fn dpkg_errors_name_the_line() {
    let e = |s: &str| dpkg(s).unwrap_err();
    assert_eq!(e("Package: a\nStat"), Error::MalformedLine { line: 2 });
    assert_eq!(
        e("Status: install ok installed\nVersion: 1\n"),
        Error::MissingField {
            line: 1,
            field: "Package"
        }
    );
    assert_eq!(
        e("Package: a\nStatus: install ok installed\n"),
        Error::MissingField {
            line: 1,
            field: "Version"
        }
    );
    assert_eq!(
        e("Package: a\nVersion: 1\n"),
        Error::MissingField {
            line: 1,
            field: "Status"
        }
    );
    assert_eq!(e(" orphan\n"), Error::OrphanContinuation { line: 1 });
    assert_eq!(e(&format!("{OK}Package: b\n")).kind(), "duplicate_field");
    assert_eq!(
        e(&OK.replace("install ok installed", "installed")),
        Error::MalformedValue {
            line: 2,
            field: "Status"
        }
    );
    assert_eq!(
        e(&OK.replace("b (2.0-0)", "b (2.0-0")),
        Error::MalformedValue {
            line: 4,
            field: "Source"
        }
    );
    assert_eq!(
        e(&OK.replace("Version: 1", "Version:\n 1")),
        Error::MalformedLine { line: 4 }
    );
    let mut bytes = OK.as_bytes().to_vec();
    bytes[OK.find("amd64").unwrap()] = 0xff;
    assert_eq!(
        parse_dpkg_status(&bytes, &Limits::default()).unwrap_err(),
        Error::NotUtf8 {
            line: 5,
            offset: OK.find("amd64").unwrap()
        }
    );
}

#[test]
fn dpkg_limits_are_enforced() {
    let small = Limits {
        max_input_bytes: 1 << 20,
        max_packages: 2,
        max_field_bytes: 24,
    };
    let long = format!("{OK} {}\n", "x".repeat(30));
    assert_eq!(
        parse_dpkg_status(long.as_bytes(), &small).unwrap_err(),
        Error::FieldTooLong {
            line: 6,
            field: "Description".into(),
            max: 24
        }
    );
    let three = format!("{OK}\n{OK}\n{OK}").replace("Description: x\n more\n", "");
    assert_eq!(
        parse_dpkg_status(three.as_bytes(), &small).unwrap_err(),
        Error::TooManyPackages { max: 2 }
    );
    let tiny = Limits {
        max_input_bytes: 8,
        ..Limits::default()
    };
    assert_eq!(
        parse_dpkg_status(OK.as_bytes(), &tiny).unwrap_err(),
        Error::InputTooLarge {
            len: OK.len(),
            max: 8
        }
    );
}

#[test]
fn status_d_holds_exactly_one_stanza_and_may_lack_status() {
    let limits = Limits::default();
    let no_status = OK.replace("Status: install ok installed\n", "");
    assert_eq!(
        parse_dpkg_status_d(no_status.as_bytes(), &limits)
            .unwrap()
            .unwrap()
            .name,
        "a"
    );
    let removed = OK.replace("install ok", "deinstall ok");
    assert_eq!(parse_dpkg_status_d(removed.as_bytes(), &limits), Ok(None));
    let two = format!("{OK}\n{OK}");
    assert_eq!(
        parse_dpkg_status_d(two.as_bytes(), &limits),
        Err(Error::NotOneStanza { count: 2 })
    );
    assert_eq!(
        parse_dpkg_status_d(b"\n\n", &limits),
        Err(Error::NotOneStanza { count: 0 })
    );
}

#[test]
fn apk_errors_name_the_line() {
    let e = |s: &str| parse_apk_installed(s.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(e("P:a\nV:1\nbad\n"), Error::MalformedLine { line: 3 });
    assert_eq!(
        e("V:1\nA:x86_64\n"),
        Error::MissingField {
            line: 1,
            field: "P (name)"
        }
    );
    assert_eq!(
        e("P:a\n\nP:b\nA:x\n"),
        Error::MissingField {
            line: 1,
            field: "V (version)"
        }
    );
    assert_eq!(e("P:a\nV:1\nP:b\n").kind(), "duplicate_field");
    assert_eq!(
        e("P:a\nV:\n"),
        Error::MalformedValue {
            line: 2,
            field: "V (version)"
        }
    );
    let small = Limits {
        max_field_bytes: 4,
        ..Limits::default()
    };
    assert_eq!(
        parse_apk_installed(b"P:abcdefgh\nV:1\n", &small)
            .unwrap_err()
            .kind(),
        "field_too_long"
    );
}

/// A blob with the given index entries and data store.
fn blob(entries: &[[u32; 4]], store: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend((entries.len() as u32).to_be_bytes());
    out.extend((store.len() as u32).to_be_bytes());
    for entry in entries {
        for word in entry {
            out.extend(word.to_be_bytes());
        }
    }
    out.extend(store);
    out
}

fn rpm(bytes: &[u8]) -> Result<ironroot_pkgdb::Package, Error> {
    parse_rpm_header(bytes, &Limits::default())
}

#[test]
fn rpm_header_bounds_are_checked() {
    let store = b"n\0v\0r\0\0\0\0\x07";
    let good = [
        [1000, 6, 0, 1],
        [1001, 6, 2, 1],
        [1002, 6, 4, 1],
        [1003, 4, 6, 1],
    ];
    let p = rpm(&blob(&good, store)).unwrap();
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.arch),
        ("n", "7:v-r", None)
    );

    let mut bad = good;
    bad[1][2] = 100;
    assert_eq!(
        rpm(&blob(&bad, store)).unwrap_err().kind(),
        "rpm_out_of_range"
    );
    bad = good;
    bad[3][3] = u32::MAX; // count overflow: 4 * u32::MAX bytes
    assert_eq!(
        rpm(&blob(&bad, store)).unwrap_err().kind(),
        "rpm_out_of_range"
    );
    bad = good;
    bad[0][1] = 17;
    assert_eq!(
        rpm(&blob(&bad, store)).unwrap_err(),
        Error::RpmBadType {
            index: 0,
            tag: 1000,
            ty: 17
        }
    );
    bad = good;
    bad[3][1] = 6;
    assert_eq!(
        rpm(&blob(&bad, store)).unwrap_err().kind(),
        "rpm_wrong_type"
    );
    bad = good;
    bad[1][0] = 1000;
    assert_eq!(
        rpm(&blob(&bad, store)).unwrap_err(),
        Error::RpmDuplicateTag {
            tag: 1000,
            first: 0,
            second: 1
        }
    );
    assert_eq!(
        rpm(&blob(&good[1..], store)).unwrap_err(),
        Error::RpmMissingTag { field: "NAME" }
    );
    assert_eq!(
        rpm(&blob(&good, b"n\0v\0r")).unwrap_err().kind(),
        "rpm_out_of_range"
    );
    assert_eq!(
        rpm(&blob(&[[1000, 6, 0, 1]], b"nnn")).unwrap_err(),
        Error::RpmUnterminated {
            index: 0,
            tag: 1000,
            offset: 0
        }
    );
    assert_eq!(
        rpm(&blob(&[[1000, 6, 0, 1]], b"\xff\0"))
            .unwrap_err()
            .kind(),
        "rpm_not_utf8"
    );
    let source = b"n\0v\0r\0nonsense\0";
    let with_source = [
        [1000, 6, 0, 1],
        [1001, 6, 2, 1],
        [1002, 6, 4, 1],
        [1044, 6, 6, 1],
    ];
    assert_eq!(
        rpm(&blob(&with_source, source)).unwrap_err(),
        Error::RpmMalformedSourceRpm
    );
    let small = Limits {
        max_field_bytes: 0,
        ..Limits::default()
    };
    assert_eq!(
        parse_rpm_header(&blob(&good, store), &small)
            .unwrap_err()
            .kind(),
        "rpm_field_too_long"
    );
}

#[test]
fn rpm_header_intro_is_checked() {
    assert_eq!(
        rpm(&[0, 0, 0]).unwrap_err(),
        Error::RpmTruncated {
            offset: 0,
            needed: 4,
            len: 3
        }
    );
    assert_eq!(
        rpm(&blob(&[], b"")).unwrap_err(),
        Error::RpmIndexCount {
            count: 0,
            max: 0xffff
        }
    );
    let mut negative = blob(&[[1000, 6, 0, 1]], b"n\0");
    negative[..4].copy_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(
        rpm(&negative).unwrap_err(),
        Error::RpmIndexCount {
            count: u32::MAX,
            max: 0xffff
        }
    );
    let mut huge_data = blob(&[[1000, 6, 0, 1]], b"n\0");
    huge_data[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(rpm(&huge_data).unwrap_err().kind(), "rpm_data_length");
    let real = read("rpm/blobs/1.bin");
    assert_eq!(
        rpm(&real[..real.len() - 1]).unwrap_err().kind(),
        "rpm_truncated"
    );
    let mut longer = real.clone();
    longer.push(0);
    assert_eq!(
        rpm(&longer).unwrap_err(),
        Error::RpmTrailingBytes { trailing: 1 }
    );
}

/// Tiny deterministic generator, so a failing case can be replayed from its seed.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Truncations at many points and random byte flips never panic.
fn mutate(input: &[u8], parse: impl Fn(&[u8])) {
    let step = (input.len() / 200).max(1);
    for cut in (0..input.len()).step_by(step) {
        parse(&input[..cut]);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ input.len() as u64;
    for _ in 0..500 {
        let mut copy = input.to_vec();
        for _ in 0..=(xorshift(&mut state) % 4) {
            let at = (xorshift(&mut state) % copy.len() as u64) as usize;
            copy[at] = xorshift(&mut state) as u8;
        }
        parse(&copy);
    }
}

#[test]
fn truncated_and_flipped_fixtures_never_panic() {
    let limits = Limits::default();
    for path in ["dpkg/host.status", "dpkg/trixie.status"] {
        mutate(&read(path), |b| drop(parse_dpkg_status(b, &limits)));
    }
    for path in ["dpkg/status.d/base-files", "dpkg/status.d/libc6"] {
        mutate(&read(path), |b| drop(parse_dpkg_status_d(b, &limits)));
    }
    mutate(&read("apk/installed"), |b| {
        drop(parse_apk_installed(b, &limits))
    });
    for n in 1..=4 {
        let real = read(&format!("rpm/blobs/{n}.bin"));
        mutate(&real, |b| drop(parse_rpm_header(b, &limits)));
        for cut in 0..real.len() {
            assert!(
                parse_rpm_header(&real[..cut], &limits).is_err(),
                "cut at {cut}"
            );
        }
    }
}
