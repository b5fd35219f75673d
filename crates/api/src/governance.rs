//! The policy hub on the wire (docs/hub.md): clusters registered with their own mTLS
//! identity, the versioned policy set and who changed it, the signed bundle each cluster's
//! controller pulls, and the compliance and violations the clusters report back.
//!
//! Routes:
//! * administrator: `POST /v1/clusters` ([`RegisterCluster`] → [`RegisteredCluster`]),
//!   `GET /v1/clusters` ([`ClusterList`]), `DELETE /v1/clusters/{id}`;
//!   `PUT /v1/policies` ([`PolicyChange`] → [`PolicyVersion`]), `GET /v1/policies`
//!   ([`PolicyDocument`], the current one), `GET /v1/policies/versions`
//!   ([`PolicyHistory`]), `GET /v1/policies/versions/{n}` ([`PolicyDocument`]);
//!   `GET /v1/compliance` ([`ComplianceOverview`]), `GET /v1/compliance/history`
//!   (`?since&until&cluster&policy&format=json|csv`, [`ComplianceHistory`] or CSV).
//! * a cluster (its client certificate): `GET /v1/cluster/bundle` (`If-None-Match` with
//!   the version it holds: 304 when unchanged; else [`SignedBundle`]),
//!   `POST /v1/cluster/compliance` ([`ComplianceReport`]), `POST /v1/cluster/violations`
//!   ([`ViolationBatch`]), `POST /v1/cluster/remediations` ([`RemediationReport`] →
//!   [`RemediationOutcome`]: what the controller did about a host's loss of trust).

use serde::{Deserialize, Serialize};

/// The most policies a compliance report may carry (the policy set's own limit).
pub const MAX_REPORTED_POLICIES: usize = 256;
/// The most sample objects a report carries per policy: a summary, never one row per
/// object (report objects have filled etcd in the field).
pub const MAX_SAMPLES: usize = 20;
/// The most violations in one batch.
pub const MAX_VIOLATION_BATCH: usize = 500;

/// `POST /v1/clusters`: an administrator registers a cluster. The CSR's key stays with
/// the cluster; only its public key is certified, under the subject the hub chooses
/// (`urn:ironroot:cluster:{id}`), so a cluster certificate never speaks for a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterCluster {
    /// A DNS-1123 label, unique among clusters; it is the `cluster` policies scope by.
    pub name: String,
    pub csr_pem: String,
}

/// The answer to a registration: the cluster's client certificate and the hub's CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredCluster {
    pub id: String,
    pub name: String,
    pub cert_pem: String,
    pub ca_pem: String,
    /// Unix seconds.
    pub not_after: u64,
}

/// Compliance of one policy, in one cluster or aggregated: the worst wins, in the order
/// NonCompliant > Pending > Unknown > Compliant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    // Declared from best to worst so that `Ord::max` is the aggregation.
    Compliant,
    Unknown,
    Pending,
    NonCompliant,
}

impl ComplianceStatus {
    /// The aggregate of several: the worst; `Pending` for none (nothing reported yet).
    pub fn aggregate(statuses: impl IntoIterator<Item = ComplianceStatus>) -> ComplianceStatus {
        statuses
            .into_iter()
            .max()
            .unwrap_or(ComplianceStatus::Pending)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::Compliant => "compliant",
            ComplianceStatus::Unknown => "unknown",
            ComplianceStatus::Pending => "pending",
            ComplianceStatus::NonCompliant => "non_compliant",
        }
    }
}

/// A registered cluster, with what the hub last heard from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub id: String,
    pub name: String,
    pub registered_at: u64,
    /// The certificate's expiry (unix seconds).
    pub cert_not_after: u64,
    /// The policy version its controller last reported enforcing.
    pub policy_version: Option<u64>,
    /// When it last reported (unix seconds).
    pub last_report_at: Option<u64>,
    /// Whether its admission webhook was serving at its last report.
    pub webhook_serving: Option<bool>,
    /// The worst status over its policies (`unknown` once its reports are overdue).
    pub status: ComplianceStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterList {
    pub clusters: Vec<ClusterInfo>,
}

/// `PUT /v1/policies`: a new version of the whole set. `document` is the YAML or JSON
/// policy set (docs/policies.md); its `version` must be the current version plus one, so
/// that two people editing at once cannot overwrite each other (409 for the second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub document: String,
    /// Who makes the change (recorded with it).
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One recorded version of the policy set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version: u64,
    /// Hex SHA-256 of the document as stored.
    pub sha256: String,
    pub by: String,
    /// Unix seconds.
    pub at: u64,
    pub comment: Option<String>,
    /// The policy ids it holds.
    pub policies: Vec<String>,
}

/// A version and its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDocument {
    #[serde(flatten)]
    pub version: PolicyVersion,
    pub document: String,
}

/// `GET /v1/policies/versions`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyHistory {
    pub versions: Vec<PolicyVersion>,
}

/// `GET /v1/cluster/bundle`: the current policy set as a compact JWS (ES256, the key of
/// `/.well-known/jwks.json`) whose payload is a [`BundlePayload`]. `ETag` is the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBundle {
    pub version: u64,
    pub jws: String,
}

/// What a bundle's signature covers. The controller checks the signature, that `cluster`
/// is its own id, and that `version` is not older than the bundle it holds (no rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundlePayload {
    pub version: u64,
    /// The cluster it was issued to.
    pub cluster: String,
    /// The cluster's name, the one policy scopes match.
    pub cluster_name: String,
    /// Unix seconds.
    pub issued_at: u64,
    /// Hex SHA-256 of `document`.
    pub sha256: String,
    /// The policy set, as the administrator wrote it.
    pub document: String,
}

/// One object that breaks a policy, as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

/// A sample of what breaks a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationSample {
    pub object: ObjectRef,
    pub message: String,
}

/// One policy's result in one cluster's background audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCompliance {
    pub policy: String,
    pub status: ComplianceStatus,
    /// Objects the policy judged (not counting those out of its scope).
    pub checked: u64,
    pub violations: u64,
    /// Objects whose facts were unknown.
    pub unknown: u64,
    /// At most [`MAX_SAMPLES`].
    #[serde(default)]
    pub samples: Vec<ViolationSample>,
}

/// `POST /v1/cluster/compliance`: one cluster's background audit, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceReport {
    /// The bundle version the audit ran under.
    pub policy_version: u64,
    /// Unix seconds, the cluster's clock (the hub records its own receipt time too).
    pub generated_at: u64,
    /// Whether the controller's admission webhook answered its own probe.
    pub webhook_serving: bool,
    /// At most [`MAX_REPORTED_POLICIES`].
    pub policies: Vec<PolicyCompliance>,
}

/// What the cluster did about a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationAction {
    /// Refused at admission.
    Denied,
    /// Admitted and recorded (audit mode, or fail-open).
    Admitted,
    /// Found by the background audit on a running object.
    Found,
}

/// One violation the webhook or the audit saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationEvent {
    pub policy: String,
    pub object: ObjectRef,
    pub message: String,
    pub action: ViolationAction,
    /// Unix seconds, the cluster's clock.
    pub at: u64,
}

/// `POST /v1/cluster/violations`: at most [`MAX_VIOLATION_BATCH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationBatch {
    pub violations: Vec<ViolationEvent>,
}

/// The longest [`RemediationReport::detail`], in bytes.
pub const MAX_REMEDIATION_DETAIL: usize = 1024;

/// What a cluster's controller did to the Node of a host that lost trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemediationAction {
    /// The Node was tainted (no new pods; `NoExecute` only while the brake is released).
    Taint,
    /// A drain through the Eviction API started, or finished.
    Drain,
    /// A drain was due but the brake (its rate or cut-off) held it back.
    HeldByBrake,
}

impl RemediationAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            RemediationAction::Taint => "taint",
            RemediationAction::Drain => "drain",
            RemediationAction::HeldByBrake => "held_by_brake",
        }
    }
}

/// `POST /v1/cluster/remediations`: one remediation of one Node. The hub records it on
/// the host's open trust-loss alert only when `node` is the Node that host is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationReport {
    pub host_id: String,
    /// The Kubernetes Node the controller acted on.
    pub node: String,
    pub action: RemediationAction,
    /// Unix seconds, the cluster's clock.
    pub at: u64,
    /// One line for people, at most [`MAX_REMEDIATION_DETAIL`] bytes.
    #[serde(default)]
    pub detail: String,
}

/// The answer to a [`RemediationReport`]: the alert it was recorded on, if any. Nothing
/// is recorded when the host has no unresolved trust-loss alert, or when the alert
/// already shows as much (a drain is never downgraded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationOutcome {
    pub recorded: bool,
    /// The trust-loss alert of the host, when one is unresolved.
    pub alert_id: Option<String>,
    /// The alert's remediation after the report (`taint`, `drain`, `held-by-brake`, …).
    pub remediation: Option<String>,
    /// Why nothing was recorded, for the controller's log.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One cluster's status for one policy, in the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPolicyStatus {
    pub cluster: String,
    pub cluster_name: String,
    pub status: ComplianceStatus,
    pub violations: u64,
    /// When this status was reported (unix seconds); `None` when nothing was.
    pub reported_at: Option<u64>,
}

/// One policy across every cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOverview {
    pub policy: String,
    pub severity: String,
    pub description: String,
    /// The aggregate over `clusters`.
    pub status: ComplianceStatus,
    pub clusters: Vec<ClusterPolicyStatus>,
}

/// `GET /v1/compliance`: every policy of the current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceOverview {
    pub policy_version: Option<u64>,
    /// The aggregate over every policy.
    pub status: ComplianceStatus,
    pub policies: Vec<PolicyOverview>,
}

/// One change of one cluster's status for one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceChange {
    /// Unix seconds, the hub's receipt time.
    pub at: u64,
    pub cluster: String,
    pub cluster_name: String,
    pub policy: String,
    pub policy_version: u64,
    pub status: ComplianceStatus,
    pub violations: u64,
}

/// `GET /v1/compliance/history?format=json`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceHistory {
    pub changes: Vec<ComplianceChange>,
}

#[cfg(test)]
mod tests {
    use super::ComplianceStatus::*;
    use super::*;

    #[test]
    fn the_worst_status_wins_in_the_documented_order() {
        assert_eq!(ComplianceStatus::aggregate([Compliant, Unknown]), Unknown);
        assert_eq!(ComplianceStatus::aggregate([Unknown, Pending]), Pending);
        assert_eq!(
            ComplianceStatus::aggregate([Pending, NonCompliant, Compliant]),
            NonCompliant
        );
        assert_eq!(ComplianceStatus::aggregate([Compliant]), Compliant);
        assert_eq!(ComplianceStatus::aggregate([]), Pending);
    }

    #[test]
    fn statuses_are_snake_case_on_the_wire() {
        let s = serde_json::to_string(&NonCompliant).unwrap();
        assert_eq!(s, "\"non_compliant\"");
        assert_eq!(NonCompliant.as_str(), "non_compliant");
    }
}
