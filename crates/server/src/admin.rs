//! Administrator endpoints: hosts and their trust, report history, flavors (groups are
//! in `groups.rs`).
//! The principal gate decides who may call each (`identity::rules`).

use crate::attest::StoredEvidence;
use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::{only_visible, visible};
use crate::identity::store::ObjectKind;
use crate::identity::Principal;
use crate::store::{FlavorRow, HostRow, ReportRow, Store, StoreError};
use crate::{now, AppState};
use axum::extract::{Path, Query, State};
use axum::Json;
use ironroot_api::{FlavorList, FlavorsFromHostRequest, HostSummary, ReportRecord, TrustState};
use ironroot_crypto::JwkSet;
use ironroot_verifier::{Flavor, FlavorGroup, FlavorPart, FlavorTemplate, TrustReport};
use serde::Deserialize;
use std::sync::Arc;

const DEFAULT_GROUP: &str = "automatic";

pub(crate) async fn ensure_default_group(store: &Store) -> Result<(), StoreError> {
    if store.group(DEFAULT_GROUP).await?.is_none() {
        let g = FlavorGroup::default_group(DEFAULT_GROUP);
        let json = serde_json::to_string(&g).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.upsert_group(DEFAULT_GROUP, &json).await?;
    }
    Ok(())
}

pub(crate) fn trust_state(latest: Option<&ReportRow>, now: u64) -> TrustState {
    match latest {
        None => TrustState::Unknown,
        Some(r) if now >= r.expires => TrustState::Expired,
        Some(r) if r.trusted => TrustState::Trusted,
        Some(_) => TrustState::Untrusted,
    }
}

pub(crate) fn failure_lines(report: &TrustReport) -> Vec<String> {
    report
        .failed_faults()
        .map(|(r, f)| {
            let part = r.part.map(|p| format!(" {}", p.name())).unwrap_or_default();
            format!("{}{}: {}", r.rule, part, f.description)
        })
        .collect()
}

/// One line per failed rule of `latest`, after why trust expired when it did.
pub(crate) fn failures_as_of(latest: Option<&ReportRow>, trust: TrustState) -> Vec<String> {
    let report: Option<TrustReport> = latest.and_then(|r| serde_json::from_str(&r.report).ok());
    let mut failures = report.as_ref().map(failure_lines).unwrap_or_default();
    if trust == TrustState::Expired {
        failures.insert(
            0,
            "no attestation within the deadline: trust expired".into(),
        );
    }
    failures
}

async fn summary(st: &AppState, h: HostRow) -> Result<HostSummary, ServiceError> {
    let latest = st.store.latest_report(&h.host_id).await?;
    let now = now();
    // The recorded state is the one events announce; a deadline the sweeper has not yet
    // reached still counts as expired here (fail closed).
    let trust = match st.store.trust_state(&h.host_id).await? {
        Some((state, deadline)) => state.as_of(deadline, now),
        None => trust_state(latest.as_ref(), now),
    };
    let failures = failures_as_of(latest.as_ref(), trust);
    Ok(HostSummary {
        host_id: h.host_id,
        hostname: h.hostname,
        hardware_uuid: h.hardware_uuid,
        trust,
        enrolled_at: h.enrolled_at,
        last_report_id: latest.as_ref().map(|r| r.report_id.clone()),
        last_attested_at: latest.as_ref().map(|r| r.created),
        trust_expires_at: latest.as_ref().map(|r| r.expires),
        flavor_group: h.flavor_group,
        failures,
        node: h.k8s_node,
    })
}

pub(crate) async fn list_hosts(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
) -> Result<Json<Vec<HostSummary>>, ServiceError> {
    let mut out = Vec::new();
    let hosts = st.store.hosts().await?;
    let hosts = only_visible(&st, &principal, ObjectKind::Host, hosts, |h| &h.host_id).await?;
    for h in hosts {
        if h.activated_at.is_some() {
            out.push(summary(&st, h).await?);
        }
    }
    Ok(Json(out))
}

pub(crate) async fn get_host(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<HostSummary>, ServiceError> {
    let h = find_host(&st, &principal, &id).await?;
    Ok(Json(summary(&st, h).await?))
}

/// `DELETE /v1/hosts/{id}`: forgets a host (its reports, tags, trust state and Node
/// binding go with it; the trust-event and key-release logs keep what happened). Its TPM
/// must enroll again to attest, and its name and Node are free for another host.
pub(crate) async fn delete_host(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let h = find_host(&st, &principal, &id).await?;
    if !st.store.delete_host(&h.host_id, now()).await? {
        return Err(ServiceError::NotFound(format!("host {id}")));
    }
    if h.k8s_node.is_some() {
        st.events.poke();
    }
    if let Ok(mut caches) = st.evidence_caches.lock() {
        caches.remove(&h.host_id);
    }
    tracing::warn!(host_id = %h.host_id, hostname = %h.hostname, "host deleted by the administrator");
    Ok(Json(serde_json::json!({ "deleted": h.host_id })))
}

/// Finds a host by id or by hostname, among those the caller's organisation owns (a host
/// of another organisation is not found).
pub(crate) async fn find_host(
    st: &AppState,
    p: &Principal,
    key: &str,
) -> Result<HostRow, ServiceError> {
    if let Some(h) = st.store.host(key).await? {
        if visible(st, p, ObjectKind::Host, &h.host_id).await? {
            return Ok(h);
        }
    }
    let named: Vec<HostRow> = st
        .store
        .hosts()
        .await?
        .into_iter()
        .filter(|h| h.hostname == key)
        .collect();
    let mut matches = only_visible(st, p, ObjectKind::Host, named, |h| &h.host_id)
        .await?
        .into_iter();
    match (matches.next(), matches.next()) {
        (Some(h), None) => Ok(h),
        (Some(_), Some(_)) => Err(ServiceError::BadRequest(format!(
            "several hosts are named {key}; use the host id"
        ))),
        _ => Err(ServiceError::NotFound(format!("host {key}"))),
    }
}

fn record(r: ReportRow) -> Result<ReportRecord, ServiceError> {
    Ok(ReportRecord {
        report: serde_json::from_str(&r.report)
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
        report_id: r.report_id,
        host_id: r.host_id,
        created: r.created,
        expires: r.expires,
        trusted: r.trusted,
        jws: r.jws,
    })
}

#[derive(Deserialize)]
pub(crate) struct RangeQuery {
    from: Option<u64>,
    to: Option<u64>,
    limit: Option<u32>,
}

pub(crate) async fn host_reports(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Vec<ReportRecord>>, ServiceError> {
    let h = find_host(&st, &principal, &id).await?;
    let rows = st
        .store
        .reports_for_host(
            &h.host_id,
            q.from.unwrap_or(0),
            q.to.unwrap_or(u64::MAX / 2),
            q.limit.unwrap_or(100).min(1000),
        )
        .await?;
    Ok(Json(
        rows.into_iter().map(record).collect::<Result<_, _>>()?,
    ))
}

pub(crate) async fn get_report(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<ReportRecord>, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("report {id}"));
    let r = st.store.report(&id).await?.ok_or_else(not_found)?;
    if !visible(&st, &principal, ObjectKind::Host, &r.host_id).await? {
        return Err(not_found());
    }
    Ok(Json(record(r)?))
}

pub(crate) async fn jwks(State(st): State<Arc<AppState>>) -> Json<JwkSet> {
    Json(JwkSet {
        keys: vec![st.signer.jwk()],
    })
}

pub(crate) fn flavor_rows(flavors: &[Flavor]) -> Result<Vec<FlavorRow>, ServiceError> {
    flavors
        .iter()
        .map(|f| {
            Ok(FlavorRow {
                flavor_id: f.id.to_string(),
                part: f.meta.part.name().to_owned(),
                label: f.meta.label.clone(),
                created: f.meta.created,
                flavor: serde_json::to_string(f)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            })
        })
        .collect()
}

fn to_values(flavors: Vec<Flavor>) -> Result<FlavorList, ServiceError> {
    let flavors = flavors
        .into_iter()
        .map(|f| serde_json::to_value(f).map_err(|e| ServiceError::Internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(FlavorList { flavors })
}

pub(crate) async fn flavors_from_host(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    ApiJson(req): ApiJson<FlavorsFromHostRequest>,
) -> Result<Json<FlavorList>, ServiceError> {
    let host = find_host(&st, &principal, &req.host_id).await?;
    let group = req.flavor_group.unwrap_or_else(|| DEFAULT_GROUP.into());
    crate::groups::group_for_host(&st, &principal, &host, &group).await?;
    let stored = st.store.last_evidence(&host.host_id).await?.ok_or_else(|| {
        ServiceError::BadRequest(format!(
            "host {} has no verified evidence yet: flavors are taken only from a host whose quote and logs verified",
            host.hostname
        ))
    })?;
    let stored: StoredEvidence =
        serde_json::from_str(&stored).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let evidence = stored.to_evidence().map_err(ServiceError::Internal)?;
    let parts: Vec<FlavorPart> = if req.parts.is_empty() {
        vec![FlavorPart::Platform, FlavorPart::Os, FlavorPart::Software]
    } else {
        req.parts
            .iter()
            .map(|p| {
                FlavorPart::parse(p)
                    .ok_or_else(|| ServiceError::BadRequest(format!("unknown flavor part {p}")))
            })
            .collect::<Result<_, _>>()?
    };
    let template = FlavorTemplate::default_uefi();
    let flavors: Vec<Flavor> =
        ironroot_verifier::flavors_from_host(&evidence, &template, &req.label, now())
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?
            .into_iter()
            .filter(|f| parts.contains(&f.meta.part))
            .collect();
    st.store
        .insert_flavors(&flavor_rows(&flavors)?, &group)
        .await?;
    st.flavor_cache.invalidate();
    tracing::info!(host = %host.hostname, count = flavors.len(), %group, "flavors created from golden host");
    Ok(Json(to_values(flavors)?))
}

#[derive(Deserialize)]
pub(crate) struct GroupQuery {
    group: Option<String>,
}

/// The body of a flavor import, parsed straight into flavors (never into a generic
/// JSON tree, whose nodes cost far more memory than the bytes that made them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportFlavors {
    flavors: Vec<Flavor>,
}

pub(crate) async fn import_flavors(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Query(q): Query<GroupQuery>,
    ApiJson(list): ApiJson<ImportFlavors>,
) -> Result<Json<FlavorList>, ServiceError> {
    let group = q.group.unwrap_or_else(|| DEFAULT_GROUP.into());
    crate::groups::visible_group(&st, &principal, &group).await?;
    let flavors = list.flavors;
    let existing = st.store.flavors(None).await?;
    if let Some(dup) = flavors
        .iter()
        .find(|f| existing.iter().any(|e| e.flavor_id == f.id.to_string()))
    {
        return Err(ServiceError::Conflict(format!(
            "a flavor with id {} exists already; delete it first",
            dup.id
        )));
    }
    st.store
        .insert_flavors(&flavor_rows(&flavors)?, &group)
        .await?;
    st.flavor_cache.invalidate();
    Ok(Json(to_values(flavors)?))
}

pub(crate) async fn list_flavors(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Query(q): Query<GroupQuery>,
) -> Result<Json<FlavorList>, ServiceError> {
    let rows = match (&q.group, &principal.org) {
        (Some(group), _) => {
            crate::groups::visible_group(&st, &principal, group).await?;
            st.store.flavors(Some(group)).await?
        }
        (None, None) => st.store.flavors(None).await?,
        (None, Some(org)) => st.store.flavors_of(org).await?,
    };
    let flavors = rows
        .into_iter()
        .map(|r| serde_json::from_str(&r.flavor).map_err(|e| ServiceError::Internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Json(FlavorList { flavors }))
}

pub(crate) async fn delete_flavor(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    if let Some(org) = &principal.org {
        if !st.store.flavor_of(&id, org).await? {
            return Err(ServiceError::NotFound(format!("flavor {id}")));
        }
    }
    let deleted = st.store.delete_flavor(&id).await?;
    st.flavor_cache.invalidate();
    if deleted {
        Ok(Json(serde_json::json!({ "deleted": id })))
    } else {
        Err(ServiceError::NotFound(format!("flavor {id}")))
    }
}
