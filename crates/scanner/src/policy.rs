//! What a user decided about a report: findings to ignore (with a reason, and until when),
//! severities to show, and the severity at which a scan fails. The caller reads the ignore
//! file (TOML) and the clock; the decisions are made here.

use crate::report::{ScanReport, Severity, Suppressed};
use ironroot_timestamp::rfc3339;
use serde::Deserialize;

/// An ignore file:
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

/// Why an ignore file is refused (entries count from 1).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("entry {0}: id and reason must not be empty")]
    Empty(usize),
    #[error("entry {entry} ({id}): expires")]
    Expires {
        entry: usize,
        id: String,
        #[source]
        date: BadDate,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: give a date (2027-01-31) or an RFC 3339 time")]
pub struct BadDate(String);

/// An ignore that has expired: it no longer applies, and the user should hear so.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("ignore of {id} expired at {}; it counts again", rfc3339::format(*.expired_at))]
pub struct ExpiredIgnore {
    pub id: String,
    pub expired_at: u64,
}

/// A validated ignore file.
#[derive(Debug, Default)]
pub struct Rules {
    ignores: Vec<(Ignore, Option<u64>)>,
}

/// `2027-01-31` (midnight UTC), an RFC 3339 time, or unix seconds (of other than ten
/// digits: ten characters are read as a date).
fn parse_date(s: &str) -> Result<u64, BadDate> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    let parsed = if !full.is_empty() && full.bytes().all(|b| b.is_ascii_digit()) {
        full.parse().ok()
    } else {
        rfc3339::parse(&full)
    };
    parsed.ok_or_else(|| BadDate(s.to_owned()))
}

impl Rules {
    /// Every entry needs an id and a reason; an expiry must be a date or time.
    pub fn new(file: IgnoreFile) -> Result<Rules, PolicyError> {
        let mut ignores = Vec::new();
        for (i, ig) in file.ignore.into_iter().enumerate() {
            if ig.reason.trim().is_empty() || ig.id.trim().is_empty() {
                return Err(PolicyError::Empty(i + 1));
            }
            let expires = match ig.expires.as_deref() {
                None => None,
                Some(e) => Some(parse_date(e).map_err(|date| PolicyError::Expires {
                    entry: i + 1,
                    id: ig.id.clone(),
                    date,
                })?),
            };
            ignores.push((ig, expires));
        }
        Ok(Rules { ignores })
    }

    /// Moves ignored findings from `report` into `report.suppressed`; ignores expired at
    /// `now` (unix seconds) no longer apply and are returned.
    pub fn apply(&self, report: &mut ScanReport, now: u64) -> Vec<ExpiredIgnore> {
        let mut expired = Vec::new();
        let live: Vec<&Ignore> = self
            .ignores
            .iter()
            .filter(|(ig, exp)| match exp {
                Some(t) if *t <= now => {
                    expired.push(ExpiredIgnore {
                        id: ig.id.clone(),
                        expired_at: *t,
                    });
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
        expired
    }
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

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
