//! The scan report: one serializable value that every output format is rendered from.

use crate::osrelease::OsRelease;
use crate::scan::{InventoryItem, LayerFinding, LayerSummary};
use serde::{Deserialize, Serialize};

/// Severity on one scale for every kind of finding: the workspace's one type. `Unknown` is
/// a finding nothing rated (review it, it is not harmless); it sorts lowest but is never
/// dropped silently.
pub use ironroot_severity::Severity;

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The reference as the user gave it.
    pub reference: String,
    /// `registry`, `oci-layout`, `docker-archive` or `rootfs`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
}

/// The vulnerability database a report was matched against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// The newest advisory's modification time (RFC 3339): how fresh the data is.
    pub built_at: String,
    /// When `ironroot db update` loaded it (RFC 3339).
    pub updated_at: String,
    pub records: u64,
}

/// One vulnerable package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub package: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub severity: Severity,
    /// `cvss-v4`, `cvss-v3`, `distribution` or `unrated`.
    pub severity_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_rating: Option<String>,
    /// `osv`, `debian-tracker`.
    pub feeds: Vec<String>,
    /// The layer that installed the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

/// A finding of a check that is not a vulnerable package: configuration, secret,
/// malware, or a hostile layer entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFinding {
    /// Stable rule id (`IR-CFG-SSH-001`, `aws-access-key-id`, `EICAR_test_file`, ...).
    pub id: String,
    /// `config`, `secret`, `malware` or `layer`.
    pub category: String,
    pub severity: Severity,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// What was seen, redacted where it is a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// Where a scan could not decide. Serialized as today's strings (`inventory`, `config`,
/// `match`); an unknown kind in a submitted report is refused, not guessed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// A package database that could not be read.
    Inventory,
    /// The image config could not be read; the checks that need it did not run.
    Config,
    /// Matching against the vulnerability database could not decide.
    Match,
}

/// Something the scan could not decide; the report is incomplete there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportProblem {
    pub kind: ProblemKind,
    pub message: String,
}

/// A finding the user's ignore file suppressed, kept in JSON so it stays visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    pub id: String,
    pub target: String,
    pub reason: String,
}

/// Everything one scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// `ironroot.scan/v1`.
    pub schema: String,
    pub scanner_version: String,
    pub image: ImageInfo,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    pub layers: Vec<LayerSummary>,
    pub packages: Vec<InventoryItem>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub findings: Vec<CheckFinding>,
    #[serde(default)]
    pub problems: Vec<ReportProblem>,
    #[serde(default)]
    pub suppressed: Vec<Suppressed>,
}

pub const SCHEMA: &str = "ironroot.scan/v1";

/// A hostile or odd layer entry as a finding.
pub fn layer_finding(f: &LayerFinding) -> CheckFinding {
    use ironroot_layers::Finding as F;
    let (id, title, path, severity) = match &f.finding {
        F::PathRefused { raw, issue } => (
            "IR-LAYER-PATH",
            format!("entry path refused ({issue:?}): the layer tries to write outside the image"),
            raw.clone(),
            Severity::High,
        ),
        F::SymlinkEscapes { path, target } => (
            "IR-LAYER-SYMLINK",
            format!("symbolic link points outside the image (to {target})"),
            path.clone(),
            Severity::Medium,
        ),
        F::HardlinkToMissing { path, target } => (
            "IR-LAYER-HARDLINK",
            format!("hard link to a file the layer does not hold ({target})"),
            path.clone(),
            Severity::Medium,
        ),
        F::FileTooLarge { path, size } => (
            "IR-LAYER-LARGE",
            format!("file of {size} bytes not inspected (over the scan's size limit)"),
            path.clone(),
            Severity::Info,
        ),
    };
    CheckFinding {
        id: id.to_owned(),
        category: "layer".to_owned(),
        severity,
        title,
        description: String::new(),
        remediation: String::new(),
        path: Some(path),
        layer: Some(f.layer),
        evidence: None,
    }
}

impl ScanReport {
    /// The most severe finding of any kind, for `--fail-on`.
    pub fn worst(&self) -> Option<Severity> {
        let v = self.vulnerabilities.iter().map(|v| v.severity);
        let f = self.findings.iter().map(|f| f.severity);
        v.chain(f).max()
    }

    /// The installed packages, as a plain list for matching again later.
    pub fn inventory(&self) -> Vec<ironroot_pkgdb::Package> {
        self.packages.iter().map(|p| p.package.clone()).collect()
    }

    /// Unused but handy for tests: the vulnerabilities' ids.
    pub fn vulnerability_ids(&self) -> Vec<&str> {
        self.vulnerabilities.iter().map(|v| v.id.as_str()).collect()
    }
}

/// Turns matching results into report vulnerabilities, each with its package's layer.
pub fn vulnerabilities(
    report: &ironroot_vulndb::MatchReport,
    packages: &[InventoryItem],
) -> Vec<Vulnerability> {
    report
        .findings
        .iter()
        .map(|f| {
            let layer = packages
                .iter()
                .find(|p| {
                    p.package.name == f.package.name && p.package.version == f.package.version
                })
                .map(|p| p.layer);
            Vulnerability {
                id: f.vuln_id.clone(),
                aliases: f.aliases.clone(),
                package: f.package.name.clone(),
                version: f.package.version.clone(),
                source_package: f.package.source_name.clone(),
                fixed_version: f.fixed_version.clone(),
                severity: f.severity.unwrap_or(Severity::Unknown),
                severity_source: match f.severity_basis {
                    ironroot_vulndb::SeverityBasis::CvssV4 => "cvss-v4",
                    ironroot_vulndb::SeverityBasis::CvssV3 => "cvss-v3",
                    ironroot_vulndb::SeverityBasis::Distribution => "distribution",
                    _ => "unrated",
                }
                .to_owned(),
                cvss_score: f.cvss_score.map(|s| s.value()),
                distribution_rating: f.distribution_rating.clone(),
                feeds: f
                    .sources
                    .iter()
                    .map(|s| match s {
                        ironroot_vulndb::FeedSource::Osv => "osv",
                        _ => "debian-tracker",
                    })
                    .map(str::to_owned)
                    .collect(),
                layer,
            }
        })
        .collect()
}

/// Matching problems as report problems.
pub fn match_problems(report: &ironroot_vulndb::MatchReport) -> Vec<ReportProblem> {
    report
        .problems
        .iter()
        .map(|p| ReportProblem {
            kind: ProblemKind::Match,
            message: match (&p.package, &p.vuln_id) {
                (Some(pkg), Some(id)) => {
                    format!("{} {} / {id}: {:?}", pkg.name, pkg.version, p.kind)
                }
                (Some(pkg), None) => format!("{} {}: {:?}", pkg.name, pkg.version, p.kind),
                (None, _) => format!("{:?}", p.kind),
            },
        })
        .collect()
}
