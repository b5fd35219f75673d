//! Registering, listing and removing clusters (administrator): a cluster's certificate
//! is issued from its CSR under `urn:ironroot:cluster:{id}`, and removing the cluster
//! revokes it (the cluster gate checks the serial against the row).

use super::is_dns_label;
use super::overview::{cluster_status, Clock, Statuses};
use super::store::ClusterRow;
use super::CallingCluster;
use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::{only_visible, require_visible};
use crate::identity::store::ObjectKind;
use crate::identity::{Principal, DEFAULT_ORG};
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ironroot_api::{ClusterInfo, ClusterList, RegisterCluster, RegisteredCluster, RenewRequest};
use std::sync::Arc;

/// `POST /v1/clusters`.
pub(crate) async fn register_cluster(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    ApiJson(req): ApiJson<RegisterCluster>,
) -> Result<Json<RegisteredCluster>, ServiceError> {
    if !is_dns_label(&req.name) {
        return Err(ServiceError::BadRequest(
            "a cluster name is a DNS-1123 label: 1-63 of a-z, 0-9 and '-', starting and \
             ending with a letter or digit"
                .into(),
        ));
    }
    let id = format!("cl-{}", uuid::Uuid::new_v4());
    // The owner first: a failure after it leaves an owner without a cluster, never a
    // cluster (and its certificate) in the wrong organisation.
    st.store
        .set_owner(ObjectKind::Cluster, &id, principal.home_org())
        .await?;
    let issued = st
        .pki
        .issue_cluster_cert(&req.csr_pem, &id, st.config.cluster_cert_lifetime_secs)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let row = ClusterRow {
        id: id.clone(),
        name: req.name.clone(),
        cert_serial: issued.serial,
        prev_cert_serial: None,
        cert_not_after: issued.not_after,
        registered_at: now(),
        policy_version: None,
        last_report_at: None,
        webhook_serving: None,
    };
    if !st.store.insert_cluster(&row, &principal.actor).await? {
        return Err(ServiceError::Conflict(format!(
            "a cluster named {} is already registered",
            req.name
        )));
    }
    tracing::info!(cluster = %id, name = %req.name, "cluster registered");
    Ok(Json(RegisteredCluster {
        id,
        name: req.name,
        cert_pem: issued.pem,
        ca_pem: st.pki.ca_pem.clone(),
        not_after: issued.not_after,
    }))
}

/// `POST /v1/cluster/certificate`: a new certificate for the calling cluster, asked for
/// with its current one (a new key, the same id). The one it renews is refused from the
/// first use of the new one on.
pub(crate) async fn renew_cluster_certificate(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    ApiJson(req): ApiJson<RenewRequest>,
) -> Result<Json<RegisteredCluster>, ServiceError> {
    st.limits.attest(&cluster.serial)?;
    let issued = st
        .pki
        .issue_cluster_cert(
            &req.csr_pem,
            &cluster.id,
            st.config.cluster_cert_lifetime_secs,
        )
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    if !st
        .store
        .renew_cluster_cert(
            &cluster.id,
            &cluster.serial,
            &issued.serial,
            issued.not_after,
        )
        .await?
    {
        return Err(ServiceError::Unauthenticated);
    }
    tracing::info!(cluster = %cluster.id, not_after = issued.not_after, "cluster certificate renewed");
    Ok(Json(RegisteredCluster {
        id: cluster.id,
        name: cluster.name,
        cert_pem: issued.pem,
        ca_pem: st.pki.ca_pem.clone(),
        not_after: issued.not_after,
    }))
}

/// `GET /v1/clusters`.
pub(crate) async fn list_clusters(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<ClusterList>, ServiceError> {
    let registered = st.store.clusters().await?;
    let registered =
        only_visible(&st, &principal, ObjectKind::Cluster, registered, |c| &c.id).await?;
    // Each cluster is judged by its own organisation's current set.
    let sets = st.store.current_policies().await?;
    let owners = st.store.owners(ObjectKind::Cluster).await?;
    let set_of = |id: &str| sets.get(owners.get(id).map_or(DEFAULT_ORG, String::as_str));
    let rows = st.store.compliance_rows().await?;
    let statuses = Statuses::new(&rows);
    let clock = Clock {
        now: now(),
        stale_secs: st.config.cluster_stale_secs,
    };
    let clusters = registered
        .into_iter()
        .map(|c| ClusterInfo {
            status: cluster_status(&c, set_of(&c.id), &statuses, clock),
            id: c.id,
            name: c.name,
            registered_at: c.registered_at,
            cert_not_after: c.cert_not_after,
            policy_version: c.policy_version,
            last_report_at: c.last_report_at,
            webhook_serving: c.webhook_serving,
        })
        .collect();
    Ok(Json(ClusterList { clusters }))
}

/// `DELETE /v1/clusters/{id}`: the cluster, its statuses (its history stays) and, at
/// once, its certificate.
pub(crate) async fn remove_cluster(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let what = format!("cluster {id}");
    require_visible(&st, &principal, ObjectKind::Cluster, &id, &what).await?;
    let name = st
        .store
        .clusters()
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.name);
    if !st.store.delete_cluster(&id, &principal.actor).await? {
        return Err(ServiceError::NotFound(format!("cluster {id}")));
    }
    if let Some(name) = name {
        super::alerting::cluster_removed(&st, &name).await?;
    }
    tracing::info!(cluster = %id, "cluster removed; its certificate is revoked");
    Ok(Json(serde_json::json!({ "deleted": id })))
}
