//! Kubernetes Nodes: an administrator binds a host to the Node it is
//! (`PUT /v1/hosts/{id}/node`), and the controller reads what it publishes on each bound
//! Node (`GET /v1/nodes`, `GET /v1/nodes/{host_id}`): trust, certified asset tags and the
//! latest signed report.
//!
//! A binding is never inferred from a hostname or a UUID the node reports: a node's root
//! chooses those, and must not be able to lend its trust to another Node. A Node name is
//! bound to at most one host. Every binding change logs a trust event in the same
//! transaction (`previous == trust`: "re-read this host"), so the controller hears of it.

use crate::admin::{failures_as_of, find_host};
use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::{only_visible, require_visible};
use crate::identity::store::ObjectKind;
use crate::store::{BindOutcome, BoundHost, UnbindOutcome};
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::Json;
use ironroot_api::{node_name, BindNode, NodeTrust, NodeTrustList, UnboundNode};
use std::sync::Arc;

/// `PUT /v1/hosts/{id}/node`: binds the host (by id or hostname) to a Kubernetes Node,
/// replacing its earlier binding; answers what the controller will publish on it.
pub(crate) async fn bind(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<BindNode>,
) -> Result<Json<NodeTrust>, ServiceError> {
    let node = node_name(&req.node)
        .map_err(|e| ServiceError::BadRequest(format!("invalid Kubernetes node name: {e}")))?;
    let host = find_host(&st, &principal, &id).await?;
    match st.store.bind_node(&host.host_id, node, now()).await? {
        BindOutcome::Bound { previous } if previous.as_deref() == Some(node) => {}
        BindOutcome::Bound { previous } => {
            st.events.poke();
            tracing::info!(host = %host.hostname, host_id = %host.host_id, %node, ?previous, "host bound to a Kubernetes node");
        }
        BindOutcome::UnknownHost => return Err(ServiceError::NotFound(format!("host {id}"))),
        BindOutcome::Taken { host_id, hostname } => {
            return Err(ServiceError::Conflict(format!(
                "Kubernetes node {node} is bound to another host, {hostname} ({host_id}): \
                 unbind it there first (DELETE /v1/hosts/{host_id}/node)"
            )))
        }
    }
    let bound = st
        .store
        .bound_host(&host.host_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("host {id}")))?;
    Ok(Json(node_trust(bound, now())?))
}

/// `DELETE /v1/hosts/{id}/node`: unbinds the host (by id or hostname) from its Node.
pub(crate) async fn unbind(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<UnboundNode>, ServiceError> {
    let host = find_host(&st, &principal, &id).await?;
    match st.store.unbind_node(&host.host_id, now()).await? {
        UnbindOutcome::Unbound { node } => {
            st.events.poke();
            tracing::info!(host = %host.hostname, host_id = %host.host_id, %node, "host unbound from its Kubernetes node");
            Ok(Json(UnboundNode {
                host_id: host.host_id,
                node,
            }))
        }
        UnbindOutcome::UnknownHost => Err(ServiceError::NotFound(format!("host {id}"))),
        UnbindOutcome::NotBound => Err(ServiceError::NotFound(format!(
            "a Kubernetes node binding of host {}",
            host.hostname
        ))),
    }
}

/// `GET /v1/nodes`: every bound host (unbound hosts are not listed).
pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
) -> Result<Json<NodeTrustList>, ServiceError> {
    // The log's position first, the hosts second: whatever changes after the hosts are
    // read has a later event, so resuming the event stream from `last_event` misses
    // nothing (a change between the two reads is seen twice, which is harmless).
    let last_event = st.store.latest_event_seq().await?;
    let as_of = now();
    let bound = st.store.bound_hosts().await?;
    let nodes = only_visible(&st, &principal, ObjectKind::Host, bound, |b| {
        &b.host.host_id
    })
    .await?
    .into_iter()
    .map(|b| node_trust(b, as_of))
    .collect::<Result<_, _>>()?;
    Ok(Json(NodeTrustList {
        nodes,
        last_event,
        as_of,
    }))
}

/// `GET /v1/nodes/{host_id}`: one bound host; 404 when unknown or unbound.
pub(crate) async fn get(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(host_id): Path<String>,
) -> Result<Json<NodeTrust>, ServiceError> {
    let what = format!("bound host {host_id}");
    require_visible(&st, &principal, ObjectKind::Host, &host_id, &what).await?;
    let bound = st
        .store
        .bound_host(&host_id)
        .await?
        .ok_or(ServiceError::NotFound(what))?;
    Ok(Json(node_trust(bound, now())?))
}

/// What the controller publishes about a bound host, read at `now`: the recorded state
/// (a trusted one past its deadline reads expired), the current certified tags, and the
/// latest report.
fn node_trust(b: BoundHost, now: u64) -> Result<NodeTrust, ServiceError> {
    let h = b.host;
    let trust = h.trust_state.as_of(b.trust_deadline, now);
    let asset_tags = match &h.tag_json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| ServiceError::Internal(format!("stored tags of {}: {e}", h.host_id)))?,
        None => Default::default(),
    };
    Ok(NodeTrust {
        failures: failures_as_of(b.report.as_ref(), trust),
        host_id: h.host_id,
        hostname: h.hostname,
        hardware_uuid: h.hardware_uuid,
        node: b.node,
        trust,
        trust_expires_at: b.trust_deadline,
        asset_tags,
        report_id: b.report.as_ref().map(|r| r.report_id.clone()),
        report_expires: b.report.as_ref().map(|r| r.expires),
        report_jws: b.report.map(|r| r.jws),
        pod_pids_limit: b.pod_pids_limit,
    })
}

#[cfg(test)]
#[path = "nodes_tests.rs"]
pub(crate) mod tests;
