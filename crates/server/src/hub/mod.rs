//! The policy hub (issue 14, docs/hub.md): clusters registered with their own mTLS
//! identity, each organisation's versioned policy set, the signed bundle each cluster's
//! controller pulls (its organisation's set), and the compliance and violations clusters
//! report, aggregated, kept as history and turned into alerts.
//!
//! Everything lives in the database (`0009_hub.sql`, `0016_policy_orgs.sql`): any
//! replica answers any cluster, and the outage watcher's alert is a compare-and-set, so
//! replicas never double it.
//! This module must never trust what a cluster says about another cluster: the caller's
//! identity comes from its certificate ([`authenticate`]), never from a body.

mod alerting;
mod clusters;
mod overview;
mod policies;
mod policy_store;
#[cfg(test)]
mod policy_store_tests;
mod remediations;
#[cfg(test)]
mod remediations_tests;
mod reports;
mod store;
#[cfg(test)]
mod tests;
mod workloads;
#[cfg(test)]
mod workloads_tests;

pub(crate) use alerting::watch_outages;
pub(crate) use clusters::{
    list_clusters, register_cluster, remove_cluster, renew_cluster_certificate,
};
pub(crate) use policies::{
    bundle, current_policies, policy_version, policy_versions, put_policies,
};
pub(crate) use remediations::report_remediation;
pub(crate) use reports::{compliance, compliance_history, report_compliance, report_violations};
pub(crate) use workloads::report_workloads;
pub(crate) use workloads::HostAtBinding;

use crate::pki::ClientKind;
use crate::store::StoreError;
use crate::tls::PeerIdentity;
use crate::AppState;

/// The registered cluster a request came from (put there by `gate::cluster`).
#[derive(Debug, Clone)]
pub(crate) struct CallingCluster {
    pub id: String,
    pub name: String,
    /// The serial of the certificate it presented.
    pub serial: String,
}

/// The cluster whose current certificate the caller presented, if it did: a host's
/// certificate, a removed cluster's, or a superseded serial is no cluster.
pub(crate) async fn authenticate(
    st: &AppState,
    peer: Option<&PeerIdentity>,
) -> Result<Option<CallingCluster>, StoreError> {
    let Some(PeerIdentity(Some(id))) = peer else {
        return Ok(None);
    };
    if id.kind != ClientKind::Cluster {
        return Ok(None);
    }
    Ok(st
        .store
        .cluster_by_cert(&id.host_id, &id.serial)
        .await?
        .map(|c| CallingCluster {
            id: c.id,
            name: c.name,
            serial: id.serial.clone(),
        }))
}

/// Whether `name` is a DNS-1123 label: 1-63 of `a-z0-9-`, starting and ending with an
/// alphanumeric (what Kubernetes accepts as a namespace, and what policy scopes name).
pub(crate) fn is_dns_label(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}
