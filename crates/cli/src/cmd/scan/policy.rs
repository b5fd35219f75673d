//! What a user asked to see and to fail on: `--severity`, `--ignore-file`, `--fail-on`.

use anyhow::Context;
use ironroot_scanner::{ScanReport, Severity, Suppressed};
use serde::Deserialize;
use std::path::Path;

/// An ignore file (TOML):
///
/// ```toml
/// [[ignore]]
/// id = "CVE-2023-4911"          # a vulnerability or rule id (required)
/// package = "libc6"             # only for this package (optional)
/// path = "etc/ssl/private/test.key"  # only for this file (optional)
/// reason = "no setuid binaries" # why (required: an ignore is a decision someone owns)
/// expires = "2027-01-31"        # after this, the finding counts again (optional)
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreFile {
    #[serde(default)]
    pub ignore: Vec<Ignore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub id: String,
    pub package: Option<String>,
    pub path: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
}

pub struct Rules {
    ignores: Vec<(Ignore, Option<u64>)>,
}

impl Rules {
    pub fn none() -> Rules {
        Rules {
            ignores: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> anyhow::Result<Rules> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        anyhow::ensure!(
            text.len() < 4 << 20,
            "{}: larger than 4 MiB",
            path.display()
        );
        let file: IgnoreFile =
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let mut ignores = Vec::new();
        for (i, ig) in file.ignore.into_iter().enumerate() {
            anyhow::ensure!(
                !ig.reason.trim().is_empty() && !ig.id.trim().is_empty(),
                "{}: entry {}: id and reason must not be empty",
                path.display(),
                i + 1
            );
            let expires = match ig.expires.as_deref() {
                None => None,
                Some(e) => Some(parse_date(e).with_context(|| {
                    format!("{}: entry {} ({}): expires", path.display(), i + 1, ig.id)
                })?),
            };
            ignores.push((ig, expires));
        }
        Ok(Rules { ignores })
    }

    /// Removes ignored findings from `report` into `report.suppressed`; expired ignores
    /// no longer apply and are returned as warnings.
    pub fn apply(&self, report: &mut ScanReport, now: u64) -> Vec<String> {
        let mut warnings = Vec::new();
        let live: Vec<&Ignore> = self
            .ignores
            .iter()
            .filter(|(ig, exp)| match exp {
                Some(t) if *t <= now => {
                    warnings.push(format!(
                        "ignore of {} expired at {}; it counts again",
                        ig.id,
                        crate::cmd::key::utc(*t)
                    ));
                    false
                }
                _ => true,
            })
            .map(|(ig, _)| ig)
            .collect();
        let hit = |id: &str, aliases: &[String], package: Option<&str>, path: Option<&str>| {
            live.iter().find(|ig| {
                (ig.id == id || aliases.contains(&ig.id))
                    && ig.package.as_deref().is_none_or(|p| Some(p) == package)
                    && ig.path.as_deref().is_none_or(|p| Some(p) == path)
            })
        };
        let mut suppressed = Vec::new();
        report
            .vulnerabilities
            .retain(|v| match hit(&v.id, &v.aliases, Some(&v.package), None) {
                Some(ig) => {
                    suppressed.push(Suppressed {
                        id: v.id.clone(),
                        target: format!("{} {}", v.package, v.version),
                        reason: ig.reason.clone(),
                    });
                    false
                }
                None => true,
            });
        report
            .findings
            .retain(|f| match hit(&f.id, &[], None, f.path.as_deref()) {
                Some(ig) => {
                    suppressed.push(Suppressed {
                        id: f.id.clone(),
                        target: f.path.clone().unwrap_or_default(),
                        reason: ig.reason.clone(),
                    });
                    false
                }
                None => true,
            });
        report.suppressed.extend(suppressed);
        warnings
    }
}

fn parse_date(s: &str) -> anyhow::Result<u64> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    crate::cmd::key::parse_time(&full)
        .map_err(|_| anyhow::anyhow!("{s:?}: give a date (2027-01-31) or an RFC 3339 time"))
}

/// Keeps only findings whose severity is in `shown`.
pub fn filter_severity(report: &mut ScanReport, shown: &[Severity]) {
    report
        .vulnerabilities
        .retain(|v| shown.contains(&v.severity));
    report.findings.retain(|f| shown.contains(&f.severity));
}

/// Whether anything left is at or above `threshold` (`unknown` fails on anything).
pub fn fails(report: &ScanReport, threshold: Severity) -> bool {
    report.worst().is_some_and(|w| w >= threshold)
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("{s:?}: severities are unknown, info, low, medium, high, critical"))
}
