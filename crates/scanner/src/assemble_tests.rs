#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::inventory::InventoryProblem;
use crate::osrelease::OsRelease;
use crate::scan::LayerFinding;
use crate::Severity;

fn collected(os: Option<OsRelease>) -> Collected {
    Collected {
        files: Default::default(),
        os_release: os,
        packages: Vec::new(),
        inventory_problems: vec![InventoryProblem {
            path: "var/lib/dpkg/status".into(),
            layer: 1,
            message: "truncated".into(),
        }],
        layer_findings: vec![LayerFinding {
            layer: 0,
            finding: ironroot_layers::Finding::FileTooLarge {
                path: "big".into(),
                size: 9,
            },
        }],
        layers: Vec::new(),
    }
}

fn finding(id: &str, category: &str) -> CheckFinding {
    CheckFinding {
        id: id.into(),
        category: category.into(),
        severity: Severity::High,
        title: String::new(),
        description: String::new(),
        remediation: String::new(),
        path: None,
        layer: None,
        evidence: None,
    }
}

fn parts(os: Option<OsRelease>) -> ScanParts {
    ScanParts {
        scanner_version: "9.9.9".into(),
        started_at: 1_709_209_815,
        image: ImageInfo {
            reference: "oci:app".into(),
            source: "oci-layout".into(),
            manifest_digest: None,
            config_digest: None,
        },
        collected: collected(os),
        config: ConfigChecks {
            findings: vec![finding("IR-CFG-SSH-001", "config")],
            problem: Some("the image config: bad; its checks did not run".into()),
        },
        content: vec![finding("aws-access-key-id", "secret")],
    }
}

#[test]
fn the_report_holds_every_part_in_order() {
    let mut r = assemble(parts(None));
    assert_eq!(r.schema, SCHEMA);
    assert_eq!(r.scanner_version, "9.9.9");
    assert_eq!(r.started_at, "2024-02-29T12:30:15Z");
    assert_eq!(r.finished_at, "");
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["IR-LAYER-LARGE", "IR-CFG-SSH-001", "aws-access-key-id"]
    );
    assert_eq!(
        r.problems,
        vec![
            ReportProblem {
                kind: ProblemKind::Inventory,
                message: "var/lib/dpkg/status (layer 1): truncated".into(),
            },
            ReportProblem {
                kind: ProblemKind::Config,
                message: "the image config: bad; its checks did not run".into(),
            },
        ]
    );
    r.finish(0);
    assert_eq!(r.finished_at, "1970-01-01T00:00:00Z");
}

#[test]
fn problem_kinds_serialize_to_the_strings_reports_always_had() {
    for (kind, text) in [
        (ProblemKind::Inventory, "inventory"),
        (ProblemKind::Config, "config"),
        (ProblemKind::Match, "match"),
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), text);
        let back: ProblemKind = serde_json::from_value(text.into()).unwrap();
        assert_eq!(back, kind);
    }
    assert!(serde_json::from_value::<ProblemKind>("other".into()).is_err());
    let r = assemble(parts(None));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["problems"][0]["kind"], "inventory");
    assert_eq!(v["problems"][1]["kind"], "config");
}

fn info() -> DatabaseInfo {
    DatabaseInfo {
        built_at: "2024-01-01T00:00:00Z".into(),
        updated_at: "2024-01-02T00:00:00Z".into(),
        records: 0,
    }
}

#[test]
fn matching_without_an_os_release_says_nothing_was_matched() {
    let mut r = assemble(parts(None));
    let db = ironroot_vulndb::Database::new();
    // Twice: the second match replaces the first's problem rather than adding one.
    r.match_against(&db, info());
    r.match_against(&db, info());
    let matching: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Match)
        .collect();
    assert_eq!(matching.len(), 1);
    assert!(matching[0]
        .message
        .starts_with("no os-release in the image"));
    assert_eq!(r.database, Some(info()));
    assert_eq!(
        serde_json::to_value(&r).unwrap()["problems"][2]["kind"],
        "match"
    );
}

#[test]
fn matching_with_an_os_release_keeps_the_other_problems() {
    let os = crate::osrelease::parse(b"ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    let mut r = assemble(parts(Some(os)));
    r.match_against(&ironroot_vulndb::Database::new(), info());
    assert!(r.vulnerabilities.is_empty());
    assert!(r
        .problems
        .iter()
        .all(|p| p.kind != ProblemKind::Match || !p.message.starts_with("no os-release")));
    assert_eq!(
        r.problems.len(),
        2 + r
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Match)
            .count()
    );
}
