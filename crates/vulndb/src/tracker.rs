//! The Debian security tracker's JSON export
//! (<https://security-tracker.debian.org/tracker/data/json>): source package → issue id →
//! per-release status. Descriptions are not kept.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{Error, Limits};

const WHAT: &str = "Debian tracker document";

/// One issue of one source package.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerIssue {
    /// Source package name.
    pub package: String,
    /// `CVE-...` or `TEMP-...`.
    pub id: String,
    /// Per-release status, by codename.
    pub releases: Vec<TrackerRelease>,
}

/// The status of an issue in one release.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerRelease {
    /// `bookworm`, `trixie`, `sid`...
    pub codename: String,
    /// Whether and until which version it is affected.
    pub status: TrackerStatus,
    /// The tracker's urgency word (`low`, `medium**`, `unimportant`, `not yet assigned`...).
    pub urgency: Option<String>,
}

/// What the tracker says about one release.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackerStatus {
    /// Affected, no fix in this release (includes no-dsa/ignored/postponed).
    Open,
    /// Not yet known; treated as affected (fail closed).
    Undetermined,
    /// Fixed in this version: older versions are affected.
    Resolved {
        /// The first fixed version.
        fixed_version: String,
    },
    /// Resolved with fixed version `0`: this release never had the vulnerable code.
    NotAffected,
}

#[derive(Deserialize)]
struct RawIssue {
    releases: Option<BTreeMap<String, RawRelease>>,
}

#[derive(Deserialize)]
struct RawRelease {
    status: String,
    fixed_version: Option<String>,
    urgency: Option<String>,
}

/// Parses the whole tracker document under `limits`.
pub fn parse_debian_tracker(input: &[u8], limits: &Limits) -> Result<Vec<TrackerIssue>, Error> {
    if input.len() > limits.max_tracker_bytes {
        return Err(Error::TooLarge {
            what: WHAT,
            id: None,
            len: input.len(),
            max: limits.max_tracker_bytes,
        });
    }
    let raw: BTreeMap<String, BTreeMap<String, RawIssue>> =
        serde_json::from_slice(input).map_err(|e| Error::Malformed {
            what: WHAT,
            id: None,
            reason: e.to_string(),
        })?;
    let total: usize = raw.values().map(BTreeMap::len).sum();
    if total > limits.max_tracker_issues {
        return Err(Error::TooMany {
            id: "Debian tracker".into(),
            item: "issues",
            count: total,
            max: limits.max_tracker_issues,
        });
    }
    let mut issues = Vec::with_capacity(total);
    for (package, by_id) in raw {
        for (id, issue) in by_id {
            let releases = issue
                .releases
                .unwrap_or_default()
                .into_iter()
                .map(|(codename, r)| convert_release(&package, &id, codename, r))
                .collect::<Result<Vec<_>, _>>()?;
            issues.push(TrackerIssue {
                package: package.clone(),
                id,
                releases,
            });
        }
    }
    Ok(issues)
}

fn convert_release(
    package: &str,
    id: &str,
    codename: String,
    raw: RawRelease,
) -> Result<TrackerRelease, Error> {
    let bad = |reason: &str| Error::BadTrackerEntry {
        package: package.to_owned(),
        issue: id.to_owned(),
        release: codename.clone(),
        reason: reason.to_owned(),
    };
    let status = match (raw.status.as_str(), raw.fixed_version) {
        ("open", _) => TrackerStatus::Open,
        ("undetermined", _) => TrackerStatus::Undetermined,
        ("resolved", Some(v)) if v == "0" => TrackerStatus::NotAffected,
        ("resolved", Some(fixed_version)) => TrackerStatus::Resolved { fixed_version },
        ("resolved", None) => return Err(bad("resolved without fixed_version")),
        _ => return Err(bad("unknown status")),
    };
    Ok(TrackerRelease {
        codename,
        status,
        urgency: raw.urgency,
    })
}
