//! Administrator-facing API types: hosts, reports, flavors.

use crate::TrustState;
use serde::{Deserialize, Serialize};

/// A host as listed by `GET /v1/hosts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostSummary {
    pub host_id: String,
    pub hostname: String,
    pub hardware_uuid: String,
    /// `trusted`, `untrusted`, `unknown` (no report yet) or `expired` (last report past its deadline).
    pub trust: TrustState,
    pub enrolled_at: u64,
    pub last_report_id: Option<String>,
    pub last_attested_at: Option<u64>,
    pub trust_expires_at: Option<u64>,
    pub flavor_group: String,
    /// One line per failed rule of the latest report.
    pub failures: Vec<String>,
    /// The Kubernetes Node an administrator bound the host to (`PUT /v1/hosts/{id}/node`);
    /// absent when unbound, and in answers of services before the binding existed.
    #[serde(default)]
    pub node: Option<String>,
}

/// A stored trust report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportRecord {
    pub report_id: String,
    pub host_id: String,
    pub created: u64,
    pub expires: u64,
    pub trusted: bool,
    /// The report itself (the verifier's `TrustReport` as JSON).
    pub report: serde_json::Value,
    /// The same report as a compact JWS.
    pub jws: String,
}

/// `POST /v1/flavors/from-host`: take known-good values from an attested host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorsFromHostRequest {
    pub host_id: String,
    pub label: String,
    /// Flavor parts to create; empty means PLATFORM, OS and SOFTWARE.
    #[serde(default)]
    pub parts: Vec<String>,
    /// Flavor group to add them to; `automatic` when absent.
    #[serde(default)]
    pub flavor_group: Option<String>,
}

/// Created or imported flavors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlavorList {
    pub flavors: Vec<serde_json::Value>,
}

/// `PUT /v1/hosts/{id}/group`: the flavor group a host moves to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignGroup {
    pub flavor_group: String,
}
