//! From what one scan gathered to its report: the pass over the layers, the configuration
//! checks, the content scanner's findings, then matching against a vulnerability database.
//! `ironroot scan` and any service that scans call the same steps, so a report means the
//! same wherever it was made.

use crate::checks::ConfigChecks;
use crate::report::{
    layer_finding, match_problems, vulnerabilities, CheckFinding, DatabaseInfo, ImageInfo,
    ProblemKind, ReportProblem, ScanReport, SCHEMA,
};
use crate::scan::Collected;
use ironroot_timestamp::rfc3339;

/// Everything one scan produced before matching.
pub struct ScanParts {
    /// The version of the program that scanned, for the report's `scanner_version`.
    pub scanner_version: String,
    /// Unix seconds when the scan started.
    pub started_at: u64,
    pub image: ImageInfo,
    /// What the pass over the layers collected.
    pub collected: Collected,
    pub config: ConfigChecks,
    /// The content scanner's findings (secrets, malware).
    pub content: Vec<CheckFinding>,
}

/// The report, unmatched (no database, no vulnerabilities) and unfinished (`finished_at`
/// empty until [`ScanReport::finish`]). Findings come in a fixed order: odd layer entries,
/// configuration, content.
pub fn assemble(parts: ScanParts) -> ScanReport {
    let ScanParts {
        scanner_version,
        started_at,
        image,
        collected,
        config,
        content,
    } = parts;
    let mut findings: Vec<CheckFinding> =
        collected.layer_findings.iter().map(layer_finding).collect();
    findings.extend(config.findings);
    findings.extend(content);
    let mut problems: Vec<ReportProblem> = collected
        .inventory_problems
        .iter()
        .map(|p| ReportProblem {
            kind: ProblemKind::Inventory,
            message: format!("{} (layer {}): {}", p.path, p.layer, p.message),
        })
        .collect();
    if let Some(message) = config.problem {
        problems.push(ReportProblem {
            kind: ProblemKind::Config,
            message,
        });
    }
    ScanReport {
        schema: SCHEMA.into(),
        scanner_version,
        image,
        started_at: rfc3339::format(started_at),
        finished_at: String::new(),
        database: None,
        os: collected.os_release,
        layers: collected.layers,
        packages: collected.packages,
        vulnerabilities: Vec::new(),
        findings,
        problems,
        suppressed: Vec::new(),
    }
}

impl ScanReport {
    /// Matches the report's inventory against `db`, replacing its vulnerabilities and its
    /// matching problems. With no os-release the distribution is unknown: nothing is
    /// matched, and the report says so rather than calling the image clean.
    pub fn match_against(&mut self, db: &ironroot_vulndb::Database, database: DatabaseInfo) {
        self.database = Some(database);
        self.problems.retain(|p| p.kind != ProblemKind::Match);
        let Some(os) = &self.os else {
            self.problems.push(ReportProblem {
                kind: ProblemKind::Match,
                message:
                    "no os-release in the image: the distribution is unknown, no package was matched"
                        .into(),
            });
            self.vulnerabilities.clear();
            return;
        };
        let m = db.match_inventory(&os.distro(), &self.inventory());
        self.vulnerabilities = vulnerabilities(&m, &self.packages);
        self.problems.extend(match_problems(&m));
    }

    /// Stamps the report finished at `now` (unix seconds).
    pub fn finish(&mut self, now: u64) {
        self.finished_at = rfc3339::format(now);
    }
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
