//! The upstream test vectors of dpkg, rpm and apk-tools (tests/fixtures/README.md says where
//! each came from), replayed in both directions: `a < b` must also give `b > a`, and
//! equality must hold both ways.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;

use ironroot_vercmp::{compare, dpkg, ApkVersion, Ecosystem, VersionError};

const DPKG: &str = include_str!("fixtures/Dpkg_Version.t.data");
const RPM: &str = include_str!("fixtures/rpmvercmp.at");
const APK_OLD: &str = include_str!("fixtures/version.data");
const APK: &str = include_str!("fixtures/unit-version.data");

fn ordering(n: &str) -> Ordering {
    match n {
        "-1" | "<" => Ordering::Less,
        "0" | "=" => Ordering::Equal,
        "1" | ">" => Ordering::Greater,
        other => panic!("unknown result {other:?}"),
    }
}

/// Checks `a ? b == want` and `b ? a == reverse(want)`.
fn check_both_ways(eco: Ecosystem, a: &str, b: &str, want: Ordering) {
    assert_eq!(compare(eco, a, b).unwrap(), want, "{eco}: {a} vs {b}");
    assert_eq!(
        compare(eco, b, a).unwrap(),
        want.reverse(),
        "{eco}: {b} vs {a}"
    );
}

fn split_revision(v: &str) -> (&str, &str) {
    v.rsplit_once('-').unwrap_or((v, ""))
}

#[test]
fn dpkg_version_t_triples() {
    let (mut compared, mut rejected) = (0, 0);
    for line in DPKG.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [a, b, res] = f[..] else {
            panic!("bad line {line:?}")
        };
        let want = ordering(res);
        let parsed = (dpkg::DpkgVersion::parse(a), dpkg::DpkgVersion::parse(b));
        match parsed {
            (Ok(_), Ok(_)) => {
                check_both_ways(Ecosystem::Dpkg, a, b, want);
                compared += 1;
            }
            _ => {
                // dpkg 1.21's own parser rejects a trailing '-' ("revision number is empty")
                // and a leading one ("version number is empty"); the Perl module the vectors
                // were written for accepts them. Their order still holds part by part.
                let err = compare(Ecosystem::Dpkg, a, b).unwrap_err();
                let text = err.to_string();
                assert!(text.contains("is empty"), "{line}: {text}");
                let ((ua, ra), (ub, rb)) = (split_revision(a), split_revision(b));
                let got = dpkg::compare_fragment(ua, ub).then(dpkg::compare_fragment(ra, rb));
                assert_eq!(got, want, "{line}");
                rejected += 1;
            }
        }
    }
    eprintln!("dpkg: {compared} triples compared, {rejected} rejected as dpkg 1.21 rejects them");
    assert_eq!(compared + rejected, 44);
    assert_eq!(rejected, 4);
}

#[test]
fn rpmvercmp_at_cases() {
    let mut n = 0;
    for line in RPM.lines().filter(|l| l.starts_with("RPMVERCMP(")) {
        let inner = line.trim_start_matches("RPMVERCMP(").trim_end_matches(')');
        let f: Vec<&str> = inner.split(", ").collect();
        let [a, b, res] = f[..] else {
            panic!("bad line {line:?}")
        };
        check_both_ways(Ecosystem::Rpm, a, b, ordering(res));
        n += 1;
    }
    eprintln!("rpm: {n} cases");
    assert_eq!(n, 69);
}

struct ApkTally {
    compared: usize,
    rejected: usize,
    fuzzy: usize,
    validity: usize,
}

fn replay_apk(data: &str) -> ApkTally {
    let mut t = ApkTally {
        compared: 0,
        rejected: 0,
        fuzzy: 0,
        validity: 0,
    };
    for line in data.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[..] {
            [] => {}
            [v] => {
                // A validity line: `!` marks a version apk must refuse.
                match v.strip_prefix('!') {
                    Some(bad) => assert!(ApkVersion::parse(bad).is_err(), "{bad} must be invalid"),
                    None => assert!(ApkVersion::parse(v).is_ok(), "{v} must be valid"),
                }
                t.validity += 1;
            }
            [a, op @ ("<" | ">" | "="), b] => match (ApkVersion::parse(a), ApkVersion::parse(b)) {
                (Ok(_), Ok(_)) => {
                    check_both_ways(Ecosystem::Apk, a, b, ordering(op));
                    t.compared += 1;
                }
                _ => {
                    let err = compare(Ecosystem::Apk, a, b).unwrap_err();
                    assert!(matches!(err, VersionError::Apk { .. }), "{line}");
                    t.rejected += 1;
                }
            },
            [a, op @ ("~" | "!~" | "<~" | ">~"), b] => {
                let got = ironroot_vercmp::apk::fuzzy_cmp(a, b).unwrap();
                let holds = match op {
                    "~" => got == Ordering::Equal,
                    "!~" => got != Ordering::Equal,
                    "<~" => got == Ordering::Less,
                    _ => got == Ordering::Greater,
                };
                assert!(holds, "{line}: fuzzy comparison gave {got:?}");
                t.fuzzy += 1;
            }
            _ => panic!("bad line {line:?}"),
        }
    }
    t
}

#[test]
fn apk_tools_unit_version_data() {
    let t = replay_apk(APK);
    eprintln!(
        "apk (test/unit/version.data): {} pairs compared, {} rejected as invalid, {} fuzzy comparisons, {} validity lines",
        t.compared, t.rejected, t.fuzzy, t.validity
    );
    // `23_foo > 4_beta` and `1.0 < 1.0bc` hold an invalid version (the file says so).
    assert_eq!((t.compared, t.rejected), (736, 2));
    assert_eq!((t.fuzzy, t.validity), (16, 31));
}

#[test]
fn apk_tools_version_data_from_the_upstream_repository() {
    let t = replay_apk(APK_OLD);
    eprintln!(
        "apk (test/version.data): {} pairs compared, {} rejected",
        t.compared, t.rejected
    );
    assert_eq!((t.compared, t.rejected), (727, 2));
}
