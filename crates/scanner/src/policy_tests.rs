#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::report::{CheckFinding, ImageInfo, Vulnerability};

fn vuln(id: &str, alias: &str, package: &str, severity: Severity) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        aliases: vec![alias.into()],
        package: package.into(),
        version: "1.0".into(),
        source_package: None,
        fixed_version: None,
        severity,
        severity_source: "unrated".into(),
        cvss_score: None,
        distribution_rating: None,
        feeds: vec!["osv".into()],
        layer: None,
    }
}

fn finding(id: &str, path: &str, severity: Severity) -> CheckFinding {
    CheckFinding {
        id: id.into(),
        category: "secret".into(),
        severity,
        title: String::new(),
        description: String::new(),
        remediation: String::new(),
        path: Some(path.into()),
        layer: Some(0),
        evidence: None,
    }
}

fn report() -> ScanReport {
    ScanReport {
        schema: crate::SCHEMA.into(),
        scanner_version: "0".into(),
        image: ImageInfo {
            reference: "r".into(),
            source: "rootfs".into(),
            manifest_digest: None,
            config_digest: None,
        },
        started_at: String::new(),
        finished_at: String::new(),
        database: None,
        os: None,
        layers: Vec::new(),
        packages: Vec::new(),
        vulnerabilities: vec![
            vuln("DSA-1", "CVE-2023-4911", "libc6", Severity::High),
            vuln("DSA-2", "CVE-2024-1", "openssl", Severity::Low),
        ],
        findings: vec![
            finding("aws-access-key-id", "etc/a.env", Severity::Critical),
            finding("aws-access-key-id", "etc/b.env", Severity::Critical),
        ],
        problems: Vec::new(),
        suppressed: Vec::new(),
    }
}

fn ignore(id: &str, package: Option<&str>, path: Option<&str>, expires: Option<&str>) -> Ignore {
    Ignore {
        id: id.into(),
        package: package.map(Into::into),
        path: path.map(Into::into),
        reason: "accepted".into(),
        expires: expires.map(Into::into),
    }
}

fn rules(ignore: Vec<Ignore>) -> Result<Rules, PolicyError> {
    Rules::new(IgnoreFile { ignore })
}

#[test]
fn an_ignore_needs_an_id_a_reason_and_a_real_expiry() {
    let mut nameless = ignore(" ", None, None, None);
    assert_eq!(rules(vec![nameless]).unwrap_err(), PolicyError::Empty(1));
    nameless = ignore("x", None, None, None);
    nameless.reason = String::new();
    assert_eq!(
        rules(vec![ignore("a", None, None, None), nameless]).unwrap_err(),
        PolicyError::Empty(2)
    );
    let e = rules(vec![ignore("CVE-1", None, None, Some("next year"))]).unwrap_err();
    assert_eq!(e.to_string(), "entry 1 (CVE-1): expires");
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert_eq!(
        source,
        "\"next year\": give a date (2027-01-31) or an RFC 3339 time"
    );
    for ok in ["2027-01-31", "2027-01-31T10:00:00+02:00", "18000000000"] {
        assert!(
            rules(vec![ignore("a", None, None, Some(ok))]).is_ok(),
            "{ok}"
        );
    }
    // Ten characters are a date, never unix seconds.
    assert!(rules(vec![ignore("a", None, None, Some("1800000000"))]).is_err());
}

#[test]
fn ignores_match_by_id_or_alias_then_package_and_path() {
    let r = rules(vec![
        ignore("CVE-2023-4911", Some("libc6"), None, None),
        ignore("DSA-2", Some("not-openssl"), None, None),
        ignore("aws-access-key-id", None, Some("etc/a.env"), None),
    ])
    .unwrap();
    let mut rep = report();
    assert!(r.apply(&mut rep, 0).is_empty());
    let left: Vec<&str> = rep.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(left, ["DSA-2"]);
    assert_eq!(rep.findings.len(), 1);
    assert_eq!(rep.findings[0].path.as_deref(), Some("etc/b.env"));
    let suppressed: Vec<(&str, &str)> = rep
        .suppressed
        .iter()
        .map(|s| (s.id.as_str(), s.target.as_str()))
        .collect();
    assert_eq!(
        suppressed,
        [("DSA-1", "libc6 1.0"), ("aws-access-key-id", "etc/a.env")]
    );
}

#[test]
fn an_expired_ignore_counts_again_and_says_so() {
    let r = rules(vec![ignore("DSA-1", None, None, Some("2027-01-31"))]).unwrap();
    let expiry = 1_801_353_600;
    let mut rep = report();
    assert!(r.apply(&mut rep, expiry - 1).is_empty());
    assert_eq!(rep.vulnerabilities.len(), 1);
    let mut rep = report();
    let expired = r.apply(&mut rep, expiry);
    assert_eq!(rep.vulnerabilities.len(), 2);
    assert_eq!(
        expired[0].to_string(),
        "ignore of DSA-1 expired at 2027-01-31T00:00:00Z; it counts again"
    );
}

#[test]
fn severity_filter_and_fail_threshold() {
    let mut rep = report();
    assert!(fails(&rep, Severity::Critical));
    filter_severity(&mut rep, &[Severity::Low, Severity::High]);
    assert_eq!(rep.findings.len(), 0);
    assert_eq!(rep.vulnerabilities.len(), 2);
    assert!(fails(&rep, Severity::High));
    assert!(!fails(&rep, Severity::Critical));
    filter_severity(&mut rep, &[]);
    // Nothing left: not even `unknown` fails.
    assert!(!fails(&rep, Severity::Unknown));
}
