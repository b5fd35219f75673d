//! `POST /v1/cluster/workloads`: the workload↔node records of the audit trail. A
//! cluster's controller reports, in batches, the pods it saw bound to a Node with their
//! images' digests; the hub adds what only it knows, the host an administrator bound to
//! that Node, its trust state and its latest report (by id and the SHA-256 of its JWS)
//! at receipt, and logs one `workload.bound` entry per pod (docs/audit.md).
//!
//! "At binding time" is therefore "at receipt": within the controller's batch interval
//! of the binding while the hub is reachable; the entry keeps the cluster's time
//! (`observed_at`) beside the hub's, so a gap after an outage shows. A Node no host is
//! bound to is logged with an unknown trust, never refused: the record of what ran
//! matters most where trust is unknown. Node bindings are the service's, not per
//! cluster: a Node name is bound to at most one host (`hosts.k8s_node`).

use super::CallingCluster;
use crate::audit::{self, entries};
use crate::error::{ApiJson, ServiceError};
use crate::store::{Store, StoreError};
use crate::{now, AppState};
use axum::extract::State;
use axum::{Extension, Json};
use ironroot_api::{
    is_image_digest, node_name, TrustState, WorkloadBatch, WorkloadBinding, WorkloadReceipt,
    MAX_IMAGE_REF, MAX_POD_UID, MAX_WORKLOAD_BATCH, MAX_WORKLOAD_IMAGES,
};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

/// The host bound to a Node, as the hub knew it when a workload record arrived.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostAtBinding {
    pub host_id: String,
    pub hostname: String,
    pub trust_state: TrustState,
    /// The report its trust state was recorded from, and that report's compact JWS.
    pub report_id: Option<String>,
    pub report_jws: Option<String>,
}

fn bad(msg: String) -> ServiceError {
    ServiceError::BadRequest(msg)
}

fn check_record(w: &WorkloadBinding) -> Result<(), ServiceError> {
    if !super::is_dns_label(&w.namespace) {
        return Err(bad(format!(
            "namespace {:?} is not a DNS-1123 label",
            w.namespace.escape_debug().to_string()
        )));
    }
    node_name(&w.pod).map_err(|e| bad(format!("the pod name: {e}")))?;
    node_name(&w.node).map_err(|e| bad(format!("the node name: {e}")))?;
    let uid_ok = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if w.uid.is_empty() || w.uid.len() > MAX_POD_UID || !w.uid.chars().all(uid_ok) {
        return Err(bad(format!(
            "a pod uid is 1-{MAX_POD_UID} letters, digits and hyphens"
        )));
    }
    if w.images.len() > MAX_WORKLOAD_IMAGES {
        return Err(bad(format!(
            "a record names at most {MAX_WORKLOAD_IMAGES} containers (pod {}/{} names {})",
            w.namespace,
            w.pod,
            w.images.len()
        )));
    }
    for i in &w.images {
        if !super::is_dns_label(&i.container) {
            return Err(bad("a container name is not a DNS-1123 label".into()));
        }
        if i.image.is_empty() || i.image.len() > MAX_IMAGE_REF || i.image.contains(char::is_control)
        {
            return Err(bad(format!(
                "an image reference is 1-{MAX_IMAGE_REF} bytes without control characters"
            )));
        }
        if i.digest.as_deref().is_some_and(|d| !is_image_digest(d)) {
            return Err(bad(
                "an image digest is sha256:<64 hex> or sha512:<128 hex>".into(),
            ));
        }
    }
    Ok(())
}

/// Checks a batch against the contract's limits; the whole batch is refused for one bad
/// record (the controller builds them, so a bad one is a bug to see, not to skip).
pub(crate) fn check_batch(b: &WorkloadBatch) -> Result<(), ServiceError> {
    if b.workloads.len() > MAX_WORKLOAD_BATCH {
        return Err(bad(format!(
            "a batch carries at most {MAX_WORKLOAD_BATCH} records (this one {})",
            b.workloads.len()
        )));
    }
    b.workloads.iter().try_for_each(check_record)
}

/// The host bound to `node`, its trust as of `now` and its latest report, read inside the logging transaction
/// so the entry states what the database held when it was written.
async fn host_at(
    conn: &mut sqlx::AnyConnection,
    node: &str,
    now: u64,
) -> Result<Option<HostAtBinding>, StoreError> {
    let row = sqlx::query(
        "SELECT h.host_id, h.hostname, h.trust_state, r.report_id, r.jws, h.trust_deadline \
         FROM hosts h LEFT JOIN reports r ON r.report_id = h.last_report_id \
         WHERE h.k8s_node = $1",
    )
    .bind(node)
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let state: String = r.try_get(2)?;
    let deadline: Option<i64> = r.try_get(5)?;
    // As the controller reads it: trusted past its deadline is expired (fail closed).
    let trust_state = TrustState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown trust state {state:?}")))?
        .as_of(deadline.map(crate::store::to_u64), now);
    Ok(Some(HostAtBinding {
        host_id: r.try_get(0)?,
        hostname: r.try_get(1)?,
        trust_state,
        report_id: r.try_get(3)?,
        report_jws: r.try_get(4)?,
    }))
}

/// Logs one `workload.bound` entry per record, each with its Node's host as the
/// database holds it, in one write transaction.
pub(crate) async fn record_workloads(
    store: &Store,
    cluster: &CallingCluster,
    b: &WorkloadBatch,
    at: u64,
) -> Result<WorkloadReceipt, StoreError> {
    let mut tx = store.begin_write().await?;
    let mut hosts: HashMap<&str, Option<HostAtBinding>> = HashMap::new();
    let mut logged = Vec::with_capacity(b.workloads.len());
    let mut unbound = 0;
    for w in &b.workloads {
        if !hosts.contains_key(w.node.as_str()) {
            let h = host_at(&mut tx, &w.node, at).await?;
            hosts.insert(w.node.as_str(), h);
        }
        let host = hosts.get(w.node.as_str()).and_then(Option::as_ref);
        if host.is_none() {
            unbound += 1;
        }
        logged.push(entries::workload_bound(cluster, w, host, at));
    }
    audit::append(&mut tx, &logged).await?;
    tx.commit().await?;
    Ok(WorkloadReceipt {
        recorded: logged.len() as u64,
        unbound,
    })
}

/// `POST /v1/cluster/workloads`.
pub(crate) async fn report_workloads(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    ApiJson(b): ApiJson<WorkloadBatch>,
) -> Result<Json<WorkloadReceipt>, ServiceError> {
    check_batch(&b)?;
    let receipt = record_workloads(&st.store, &cluster, &b, now()).await?;
    tracing::debug!(cluster = %cluster.name, recorded = receipt.recorded, unbound = receipt.unbound,
        "workload records logged");
    Ok(Json(receipt))
}
