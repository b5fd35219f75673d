//! Each fixture case against a hand-written inventory, with the exact findings expected.
//! Facts behind the fixtures: tests/fixtures/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ironroot_pkgdb::{parse_apk_installed, parse_dpkg_status, Limits as PkgLimits, Package};
use ironroot_vulndb::{
    Database, Distro, Error, FeedSource, Finding, Limits, MatchReport, ProblemKind,
};

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const OSV_FIXTURES: &[&str] = &[
    "osv/DSA-5514-1.json",
    "osv/DEBIAN-CVE-2023-45853.json",
    "osv/ALPINE-CVE-2024-5535.json",
    "osv/ALPINE-CVE-2024-3094.json",
    "osv/IRONROOT-TEST-0001.json",
    "osv/IRONROOT-TEST-0002-withdrawn.json",
    "osv/IRONROOT-TEST-0003-bad-version.json",
];

fn database() -> Database {
    let mut db = Database::new();
    for f in OSV_FIXTURES {
        db.add_osv_json(&read(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    assert_eq!(
        db.add_debian_tracker_json(&read("debian-tracker-excerpt.json"))
            .unwrap(),
        7
    );
    db
}

fn distro(id: &str, version_id: &str) -> Distro {
    Distro {
        id: id.into(),
        version_id: version_id.into(),
    }
}

fn dpkg(text: &str) -> Vec<Package> {
    parse_dpkg_status(text.as_bytes(), &PkgLimits::default()).unwrap()
}

fn apk(text: &str) -> Vec<Package> {
    parse_apk_installed(text.as_bytes(), &PkgLimits::default()).unwrap()
}

/// `package vuln fixed=… severity/basis score sources [aliases] via=name`, one line each.
fn summary(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} fixed={} {}/{:?} {} {:?} {:?} via={}",
                f.package.name,
                f.vuln_id,
                f.fixed_version.as_deref().unwrap_or("-"),
                // The variant name (`Critical`), as the CVSS specifications write it.
                f.severity
                    .map_or("unrated".to_owned(), |s| format!("{s:?}")),
                f.severity_basis,
                f.cvss_score.map_or("-".to_string(), |s| s.to_string()),
                f.sources,
                f.aliases,
                f.matched_name,
            )
        })
        .collect()
}

#[test]
fn bookworm_inventory_gets_exactly_the_expected_findings() {
    let db = database();
    let packages = dpkg(std::str::from_utf8(&read("bookworm-status")).unwrap());
    let report = db.match_inventory(&distro("debian", "12"), &packages);
    assert_eq!(
        summary(&report.findings),
        [
            // OSV DSA and the tracker agree on glibc: one finding, both sources.
            "libc6 CVE-2023-4911 fixed=2.36-9+deb12u3 unrated/Unrated - [Osv, DebianTracker] [\"DSA-5514-1\"] via=glibc",
            // Epoch version, matched by versions[] and introduced-0 in OSV and "open" in the tracker.
            "zlib1g CVE-2023-45853 fixed=- Critical/CvssV3 9.8 [Osv, DebianTracker] [\"DEBIAN-CVE-2023-45853\"] via=zlib",
            "zlib1g TEMP-0000000-IRTEST fixed=- unrated/Unrated - [DebianTracker] [] via=zlib",
            "libssl3 CVE-2024-2511 fixed=3.0.14-1~deb12u1 Low/Distribution - [DebianTracker] [] via=openssl",
            // Source version 5.2.15-2 (binNMU +b2 on the binary), urgency unimportant.
            "bash TEMP-0841856-B18BAF fixed=- Low/Distribution - [DebianTracker] [] via=bash",
        ]
    );
    // curl is past both fixes; liblzma5's source was never affected (fixed_version "0").
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.vuln_id.as_deref(), Some("IRONROOT-TEST-0003"));
    assert_eq!(problem.package.as_ref().unwrap().name, "bash");
    assert!(matches!(problem.kind, ProblemKind::FeedVersion(_)));
}

#[test]
fn alpine_inventory_matches_by_origin_with_apk_revisions() {
    let db = database();
    let packages = apk(std::str::from_utf8(&read("alpine-3.20-installed")).unwrap());
    let report = db.match_inventory(&distro("alpine", "3.20.3"), &packages);
    assert_eq!(
        summary(&report.findings),
        [
            "libcrypto3 CVE-2024-5535 fixed=3.3.1-r1 Critical/CvssV3 9.1 [Osv] [\"ALPINE-CVE-2024-5535\"] via=openssl",
            "xz-libs CVE-2024-3094 fixed=5.6.1-r2 Critical/CvssV3 10.0 [Osv] [\"ALPINE-CVE-2024-3094\"] via=xz",
        ]
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn one(db: &Database, distro_: &Distro, packages: &[Package]) -> Vec<String> {
    let report: MatchReport = db.match_inventory(distro_, packages);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    summary(&report.findings)
}

fn curl(version: &str) -> Vec<Package> {
    dpkg(&format!(
        "Package: libcurl4\nStatus: install ok installed\nSource: curl\nVersion: {version}\n\n"
    ))
}

#[test]
fn version_equal_to_fixed_is_not_affected_and_one_below_is() {
    let db = database();
    let d12 = distro("debian", "12");
    // Tracker: CVE-2023-38545 fixed in 7.88.1-10+deb12u4.
    assert_eq!(
        one(&db, &d12, &curl("7.88.1-10+deb12u4")),
        Vec::<String>::new()
    );
    assert_eq!(
        one(&db, &d12, &curl("7.88.1-10+deb12u3")),
        ["libcurl4 CVE-2023-38545 fixed=7.88.1-10+deb12u4 unrated/Unrated - [DebianTracker] [] via=curl"]
    );
    // dpkg's tilde sorts before everything: a ~ pre-release of the fix is still affected.
    assert_eq!(one(&db, &d12, &curl("7.88.1-10+deb12u4~1")).len(), 1);
    // An older epoch-less version below an epoch'd fix is affected; the epoch wins.
    let zlib = |v: &str| {
        dpkg(&format!(
            "Package: minizip\nStatus: install ok installed\nVersion: {v}\n\n"
        ))
    };
    assert_eq!(one(&db, &d12, &zlib("1.1-8+deb12u1")), Vec::<String>::new());
    assert_eq!(one(&db, &d12, &zlib("1.1-8")).len(), 1);
}

#[test]
fn last_affected_is_inclusive_and_ranges_are_independent() {
    let db = database();
    let d12 = distro("debian", "12");
    let expect = |fixed: &str| {
        vec![format!(
            "libcurl4 CVE-2099-0001 fixed={fixed} Critical/CvssV4 9.3 [Osv] [\"IRONROOT-TEST-0001\"] via=curl"
        )]
    };
    // Only the synthetic record's finding; the tracker's CVE-2023-38545 also hits below u4.
    let synthetic = |v: &str| -> Vec<String> {
        one(&db, &d12, &curl(v))
            .into_iter()
            .filter(|l| l.contains("CVE-2099-0001"))
            .collect()
    };
    assert_eq!(synthetic("7.88.1-10+deb12u1"), expect("-"));
    assert_eq!(synthetic("7.88.1-10+deb12u2"), Vec::<String>::new());
    assert_eq!(synthetic("7.80.0-1"), expect("-"));
    assert_eq!(synthetic("7.79.0-1"), Vec::<String>::new());
    assert_eq!(synthetic("8.4.0-1"), expect("8.5.0-1"));
    assert_eq!(synthetic("8.5.0-1"), Vec::<String>::new());
    // Another release never sees Debian:12 entries.
    assert_eq!(
        one(&db, &distro("debian", "13"), &curl("7.80.0-1")),
        Vec::<String>::new()
    );
}

#[test]
fn apk_versions_list_matches_exactly_and_apk_revisions_order() {
    let db = database();
    let a = distro("alpine", "3.20");
    let xz = |v: &str| apk(&format!("P:xz\nV:{v}\no:xz\n\n"));
    let ids = |v: &str| -> Vec<String> {
        db.match_inventory(&a, &xz(v))
            .findings
            .into_iter()
            .map(|f| f.vuln_id)
            .collect()
    };
    assert_eq!(ids("5.4.6-r0"), ["CVE-2024-3094", "CVE-2099-0001"]);
    assert_eq!(ids("5.6.0-r0"), ["CVE-2024-3094", "CVE-2099-0001"]);
    assert_eq!(ids("5.6.1-r1"), ["CVE-2024-3094"]);
    assert_eq!(ids("5.6.1-r2"), Vec::<String>::new());
    assert_eq!(ids("5.6.1-r10"), Vec::<String>::new());
}

#[test]
fn load_statistics_count_everything_not_matched() {
    let db = database();
    let s = db.stats();
    assert_eq!(s.osv_records, 6);
    assert_eq!(s.withdrawn_skipped, 1);
    assert_eq!(s.unsupported_ecosystem_entries, 2);
    assert_eq!(
        s.unsupported_ecosystems.iter().collect::<Vec<_>>(),
        ["PyPI", "Ubuntu:22.04:LTS"]
    );
    assert_eq!(s.ignored_ranges, 1);
    assert_eq!(s.tracker_issues, 7);
    assert_eq!(s.tracker_not_affected, 1);
    assert_eq!(s.tracker_releases_skipped, 2);
    assert_eq!(s.entries_with_bad_versions, 1);
    assert_eq!(s.invalid_cvss_vectors, 0);
}

#[test]
fn unsupported_distro_and_foreign_packages_are_problems() {
    let db = database();
    let report = db.match_inventory(&distro("ubuntu", "22.04"), &curl("7.0-1"));
    assert!(report.findings.is_empty());
    assert!(matches!(
        report.problems[0].kind,
        ProblemKind::UnsupportedDistro { .. }
    ));
    let report = db.match_inventory(&distro("alpine", "3.20"), &curl("7.0-1"));
    assert!(matches!(
        report.problems[0].kind,
        ProblemKind::EcosystemMismatch
    ));
}

#[test]
fn unparsable_installed_version_is_a_problem_not_a_pass() {
    let db = database();
    let report = db.match_inventory(&distro("alpine", "3.20"), &apk("P:xz\nV:not-a-version\n\n"));
    assert!(report.findings.is_empty());
    assert_eq!(report.problems.len(), 1);
    assert!(matches!(
        report.problems[0].kind,
        ProblemKind::InstalledVersion(_)
    ));
}

#[test]
fn sources_are_reported_once_when_loaded_twice() {
    let mut db = database();
    db.add_osv_json(&read("osv/DSA-5514-1.json")).unwrap();
    let report = db.match_inventory(
        &distro("debian", "12"),
        &dpkg("Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9\n\n"),
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].sources,
        [FeedSource::Osv, FeedSource::DebianTracker]
    );
}

#[test]
fn malformed_and_oversized_records_are_errors_naming_the_id() {
    let mut db = Database::new();
    let err = db
        .add_osv_json(&read("osv/malformed-two-key-event.json"))
        .unwrap_err();
    assert_eq!(
        err,
        Error::BadEvent {
            id: "IRONROOT-TEST-0004".into()
        }
    );
    let dsa = read("osv/DSA-5514-1.json");
    let mut limits = Limits::default();
    limits.max_osv_record_bytes = 100;
    let err = Database::with_limits(limits)
        .add_osv_json(&dsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge { id: Some(id), .. } if id == "DSA-5514-1"),
        "{err}"
    );
    let mut limits = Limits::default();
    limits.max_affected = 1;
    let err = Database::with_limits(limits)
        .add_osv_json(&dsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooMany { id, item: "affected entries", count: 2, max: 1 } if id == "DSA-5514-1"),
        "{err}"
    );
    let mut limits = Limits::default();
    limits.max_events = 1;
    let err = Database::with_limits(limits)
        .add_osv_json(&dsa)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::TooMany {
                item: "range events",
                ..
            }
        ),
        "{err}"
    );
    for junk in [&b"not json"[..], b"{}", b"[]", b"{\"id\": 5}", b""] {
        let err = db.add_osv_json(junk).unwrap_err();
        assert_eq!(err.kind(), "malformed", "{err}");
    }
    // Nothing of a refused record was added.
    assert_eq!(db.stats().entries, 0);
}

#[test]
fn malformed_tracker_documents_are_errors() {
    let mut db = Database::new();
    let bad_status = br#"{"zlib": {"CVE-1": {"releases": {"bookworm": {"status": "fixed"}}}}}"#;
    let err = db.add_debian_tracker_json(bad_status).unwrap_err();
    assert!(
        matches!(&err, Error::BadTrackerEntry { package, issue, .. } if package == "zlib" && issue == "CVE-1"),
        "{err}"
    );
    let no_fix = br#"{"zlib": {"CVE-1": {"releases": {"bookworm": {"status": "resolved"}}}}}"#;
    assert_eq!(
        db.add_debian_tracker_json(no_fix).unwrap_err().kind(),
        "bad_tracker_entry"
    );
    assert_eq!(
        db.add_debian_tracker_json(b"[1]").unwrap_err().kind(),
        "malformed"
    );
    let mut limits = Limits::default();
    limits.max_tracker_issues = 6;
    let err = Database::with_limits(limits)
        .add_debian_tracker_json(&read("debian-tracker-excerpt.json"))
        .unwrap_err();
    assert_eq!(err.kind(), "too_many");
    limits.max_tracker_bytes = 10;
    let err = Database::with_limits(limits)
        .add_debian_tracker_json(&read("debian-tracker-excerpt.json"))
        .unwrap_err();
    assert_eq!(err.kind(), "too_large");
}

/// rpm: a synthetic AlmaLinux record (marked IRONROOT-TEST), an inventory built with
/// `Package::new`, epochs and releases compared the rpm way.
#[test]
fn rpm_packages_match_with_epoch_and_release() {
    let record = br#"{
      "schema_version": "1.7.0",
      "id": "IRONROOT-TEST-RPM-0001",
      "aliases": ["CVE-0000-0001"],
      "modified": "2026-11-24T00:00:00Z",
      "affected": [{
        "package": {"ecosystem": "AlmaLinux:9", "name": "openssl-libs"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]}]
      }]
    }"#;
    let mut db = Database::new();
    db.add_osv_json(record).unwrap();
    let distro = Distro {
        id: "almalinux".into(),
        version_id: "9.4".into(),
    };
    let pkg = |v: &str| Package::new(ironroot_pkgdb::Ecosystem::Rpm, "openssl-libs", v);
    let hits = |v: &str| -> Vec<String> {
        let r = db.match_inventory(&distro, &[pkg(v)]);
        assert!(r.problems.is_empty(), "{v}: {:?}", r.problems);
        r.findings.iter().map(|f| f.vuln_id.clone()).collect()
    };
    assert_eq!(hits("1:3.0.7-25.el9"), ["CVE-0000-0001"]);
    assert_eq!(hits("1:3.0.7-27.el9_4.1"), Vec::<String>::new());
    assert_eq!(hits("1:3.0.7-27.el9"), Vec::<String>::new());
    assert_eq!(
        hits("3.2.0-1.el9"),
        ["CVE-0000-0001"],
        "no epoch is epoch 0, below 1:"
    );
}
