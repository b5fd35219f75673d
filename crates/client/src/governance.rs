//! The policy hub's routes (docs/hub.md): an administrator registers clusters, writes
//! versioned policy sets and reads compliance; a cluster (its controller, with the
//! client certificate registration issued, through [`Client::agent`]) pulls its signed
//! bundle and reports compliance and violations.

use crate::error::decode;
use crate::routes::path_segment;
use crate::{Client, ClientError};
use ironroot_api::{
    ClusterInfo, ClusterList, ComplianceHistory, ComplianceOverview, ComplianceReport,
    PolicyChange, PolicyDocument, PolicyHistory, PolicyVersion, RegisterCluster, RegisteredCluster,
    RemediationOutcome, RemediationReport, RenewRequest, SignedBundle, ViolationBatch,
};
use reqwest::Method;
use serde_json::Value;

/// `GET /v1/compliance/history`'s filters; `None` leaves one out.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Changes at or after (unix seconds).
    pub since: Option<u64>,
    /// Changes before (unix seconds).
    pub until: Option<u64>,
    /// A cluster's id or name.
    pub cluster: Option<String>,
    /// A policy id.
    pub policy: Option<String>,
}

impl HistoryQuery {
    fn to_query(&self, format: &str) -> String {
        let pairs = [
            ("since", self.since.map(|v| v.to_string())),
            ("until", self.until.map(|v| v.to_string())),
            ("cluster", self.cluster.clone()),
            ("policy", self.policy.clone()),
            ("format", Some(format.to_owned())),
        ];
        let parts: Vec<String> = pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", path_segment(v))))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

/// The largest bundle answer a cluster reads, whatever its client's usual limit.
pub const BUNDLE_RESPONSE_LIMIT: usize = 4 << 20;

/// The `If-None-Match` value for a bundle version (the `ETag` the hub sends).
pub fn bundle_etag(version: u64) -> String {
    format!("\"{version}\"")
}

impl Client {
    /// `POST /v1/clusters` (administrator): certifies the cluster's CSR.
    pub async fn register_cluster(
        &self,
        r: &RegisterCluster,
    ) -> Result<RegisteredCluster, ClientError> {
        self.post("/v1/clusters", r).await
    }

    /// `POST /v1/cluster/certificate` (a cluster, with its current certificate): a new
    /// certificate for the key of `csr_pem`. Use it at once ([`Client::rotate_identity`]):
    /// its first use revokes the one it renewed.
    pub async fn renew_cluster_certificate(
        &self,
        csr_pem: String,
    ) -> Result<RegisteredCluster, ClientError> {
        self.post("/v1/cluster/certificate", &RenewRequest { csr_pem })
            .await
    }

    /// `GET /v1/clusters` (administrator).
    pub async fn clusters(&self) -> Result<Vec<ClusterInfo>, ClientError> {
        let list: ClusterList = self.get("/v1/clusters").await?;
        Ok(list.clusters)
    }

    /// `DELETE /v1/clusters/{id}` (administrator): the cluster and its certificate
    /// (revoked at once).
    pub async fn remove_cluster(&self, id: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/clusters/{}", path_segment(id)))
            .await
    }

    /// `PUT /v1/policies` (administrator): a new version of the policy set (its
    /// `version` must be the current one plus one, else 409).
    pub async fn put_policies(&self, c: &PolicyChange) -> Result<PolicyVersion, ClientError> {
        self.put("/v1/policies", c).await
    }

    /// `GET /v1/policies` (administrator): the current version and its document.
    pub async fn policies(&self) -> Result<PolicyDocument, ClientError> {
        self.get("/v1/policies").await
    }

    /// `GET /v1/policies/versions` (administrator): newest first.
    pub async fn policy_versions(&self) -> Result<PolicyHistory, ClientError> {
        self.get("/v1/policies/versions").await
    }

    /// `GET /v1/policies/versions/{n}` (administrator).
    pub async fn policy_version(&self, n: u64) -> Result<PolicyDocument, ClientError> {
        self.get(&format!("/v1/policies/versions/{n}")).await
    }

    /// `GET /v1/compliance` (administrator): every policy of the current version
    /// across every cluster.
    pub async fn compliance(&self) -> Result<ComplianceOverview, ClientError> {
        self.get("/v1/compliance").await
    }

    /// `GET /v1/compliance/history?format=json` (administrator): oldest first.
    pub async fn compliance_history(
        &self,
        q: &HistoryQuery,
    ) -> Result<ComplianceHistory, ClientError> {
        self.get(&format!("/v1/compliance/history{}", q.to_query("json")))
            .await
    }

    /// `GET /v1/compliance/history?format=csv` (administrator): the same changes as
    /// CSV (RFC 4180, a header row), as the hub wrote it.
    pub async fn compliance_history_csv(&self, q: &HistoryQuery) -> Result<String, ClientError> {
        let path = format!("/v1/compliance/history{}", q.to_query("csv"));
        let (status, body) = self.send_raw(self.request(Method::GET, &path), 0).await?;
        if !(200..300).contains(&status) {
            return Err(error_of(status, &body));
        }
        String::from_utf8(body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// `GET /v1/cluster/bundle` (a cluster): the current signed bundle, or `None`
    /// when it is still version `have` (304). The caller verifies the JWS
    /// (`JwkSet::verify_compact` with the hub's `/.well-known/jwks.json`) before use.
    pub async fn policy_bundle(
        &self,
        have: Option<u64>,
    ) -> Result<Option<SignedBundle>, ClientError> {
        let mut req = self.request(Method::GET, "/v1/cluster/bundle");
        if let Some(v) = have {
            req = req.header(reqwest::header::IF_NONE_MATCH, bundle_etag(v));
        }
        // A bundle carries a policy set of up to 1 MiB, base64 in a JWS: more than an
        // agent's usual answers.
        let (status, body) = self.send_raw(req, BUNDLE_RESPONSE_LIMIT).await?;
        if status == 304 {
            return Ok(None);
        }
        decode(status, &body).map(Some)
    }

    /// `POST /v1/cluster/compliance` (a cluster): its whole background audit.
    pub async fn report_compliance(&self, r: &ComplianceReport) -> Result<(), ClientError> {
        let _: Value = self.post("/v1/cluster/compliance", r).await?;
        Ok(())
    }

    /// `POST /v1/cluster/violations` (a cluster): what its webhook or audit saw.
    pub async fn report_violations(&self, b: &ViolationBatch) -> Result<(), ClientError> {
        let _: Value = self.post("/v1/cluster/violations", b).await?;
        Ok(())
    }

    /// `POST /v1/cluster/remediations` (a cluster): what its controller did to the Node
    /// of a host that lost trust, recorded on the host's trust-loss alert.
    pub async fn report_remediation(
        &self,
        r: &RemediationReport,
    ) -> Result<RemediationOutcome, ClientError> {
        self.post("/v1/cluster/remediations", r).await
    }

    /// `POST /v1/cluster/workloads` (a cluster): pods bound to Nodes, with their images'
    /// digests, each logged by the hub with the trust of the Node's host.
    pub async fn report_workloads(
        &self,
        b: &ironroot_api::WorkloadBatch,
    ) -> Result<ironroot_api::WorkloadReceipt, ClientError> {
        self.post("/v1/cluster/workloads", b).await
    }
}

/// The error a non-2xx answer carries.
fn error_of(status: u16, body: &[u8]) -> ClientError {
    match decode::<Value>(status, body) {
        Err(e) => e,
        Ok(_) => ClientError::Status {
            status: crate::HttpStatus(status),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_filters_are_encoded_and_the_format_always_sent() {
        assert_eq!(HistoryQuery::default().to_query("csv"), "?format=csv");
        let q = HistoryQuery {
            since: Some(5),
            until: Some(9),
            cluster: Some("eu 1".into()),
            policy: Some("no-privileged".into()),
        };
        assert_eq!(
            q.to_query("json"),
            "?since=5&until=9&cluster=eu%201&policy=no-privileged&format=json"
        );
    }

    #[test]
    fn the_etag_is_the_quoted_version() {
        assert_eq!(bundle_etag(7), "\"7\"");
    }
}
