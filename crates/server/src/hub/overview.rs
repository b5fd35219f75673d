//! Aggregation and export, pure: each cluster's status for each policy of the current
//! version (pending until it reports under that version, unknown once its reports are
//! overdue), the worst over clusters and over policies, and the history as CSV.

use super::store::{ClusterRow, StatusRow, VersionRow};
use ironroot_api::{
    ClusterPolicyStatus, ComplianceChange, ComplianceOverview, ComplianceStatus, PolicyOverview,
};
use std::collections::HashMap;

/// The stored statuses by (cluster id, policy): the overview looks up clusters × policies
/// of them (30,000 for 1,000 clusters of 30 policies), so each lookup is a hash.
pub(crate) struct Statuses<'a>(HashMap<(&'a str, &'a str), &'a StatusRow>);

impl<'a> Statuses<'a> {
    pub fn new(rows: &'a [StatusRow]) -> Statuses<'a> {
        Statuses(
            rows.iter()
                .map(|r| ((r.cluster_id.as_str(), r.policy.as_str()), r))
                .collect(),
        )
    }

    fn get(&self, cluster: &str, policy: &str) -> Option<&'a StatusRow> {
        self.0.get(&(cluster, policy)).copied()
    }
}

/// When the hub judges, and how old a cluster's last report may be before its statuses
/// are unknown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub now: u64,
    pub stale_secs: u64,
}

/// Cluster `c`'s status for `policy` of version `version`: pending when it never
/// reported; unknown when its last report is overdue (whatever it said then);
/// pending when its latest word on the policy is from another version (or absent);
/// else what it reported.
pub(crate) fn status_of(
    c: &ClusterRow,
    policy: &str,
    version: u64,
    rows: &Statuses<'_>,
    clock: Clock,
) -> ClusterPolicyStatus {
    let row = rows.get(&c.id, policy);
    let (status, violations) = match (c.last_report_at, row) {
        (None, _) => (ComplianceStatus::Pending, 0),
        (Some(at), _) if clock.now.saturating_sub(at) > clock.stale_secs => {
            (ComplianceStatus::Unknown, row.map_or(0, |r| r.violations))
        }
        (Some(_), Some(r)) if r.policy_version == version => (r.status, r.violations),
        (Some(_), _) => (ComplianceStatus::Pending, 0),
    };
    ClusterPolicyStatus {
        cluster: c.id.clone(),
        cluster_name: c.name.clone(),
        status,
        violations,
        reported_at: row.map(|r| r.reported_at),
    }
}

/// Cluster `c`'s worst status over the current version's policies (`pending` when there
/// is no policy set, or it is empty).
pub(crate) fn cluster_status(
    c: &ClusterRow,
    current: Option<&VersionRow>,
    rows: &Statuses<'_>,
    clock: Clock,
) -> ComplianceStatus {
    let Some(v) = current else {
        return ComplianceStatus::Pending;
    };
    ComplianceStatus::aggregate(
        v.policies
            .iter()
            .map(|p| status_of(c, &p.id, v.version.version, rows, clock).status),
    )
}

/// `GET /v1/compliance`: every policy of an organisation's current version across that
/// organisation's clusters. A policy with no cluster registered is pending (nothing
/// enforces it yet).
pub(crate) fn overview(
    current: Option<&VersionRow>,
    clusters: &[ClusterRow],
    rows: &[StatusRow],
    clock: Clock,
) -> ComplianceOverview {
    let rows = &Statuses::new(rows);
    let Some(v) = current else {
        return ComplianceOverview {
            policy_version: None,
            status: ComplianceStatus::Pending,
            policies: Vec::new(),
        };
    };
    let policies: Vec<PolicyOverview> = v
        .policies
        .iter()
        .map(|p| {
            let per_cluster: Vec<ClusterPolicyStatus> = clusters
                .iter()
                .map(|c| status_of(c, &p.id, v.version.version, rows, clock))
                .collect();
            PolicyOverview {
                policy: p.id.clone(),
                severity: p.severity.clone(),
                description: p.description.clone(),
                status: ComplianceStatus::aggregate(per_cluster.iter().map(|s| s.status)),
                clusters: per_cluster,
            }
        })
        .collect();
    ComplianceOverview {
        policy_version: Some(v.version.version),
        status: ComplianceStatus::aggregate(policies.iter().map(|p| p.status)),
        policies,
    }
}

/// The CSV header of the history export.
pub(crate) const CSV_HEADER: &str =
    "at,cluster,cluster_name,policy,policy_version,status,violations";

/// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote
/// or a line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The history as CSV: a header row, then one row per change, CRLF line ends.
pub(crate) fn csv(changes: &[ComplianceChange]) -> String {
    let mut out = String::with_capacity(64 * (changes.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for c in changes {
        let fields = [
            c.at.to_string(),
            csv_field(&c.cluster),
            csv_field(&c.cluster_name),
            csv_field(&c.policy),
            c.policy_version.to_string(),
            c.status.as_str().to_owned(),
            c.violations.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
