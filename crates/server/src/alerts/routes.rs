//! The alert and sink routes; every one sits behind the principal gate (the caller is
//! authenticated and its role checked before a body is read) and takes the
//! [`Principal`] it let through. An organisation's caller sees and changes only its own
//! organisation's alerts and sinks; another's read as not found (the bootstrap
//! credential, with no organisation, reaches all of them).

use super::orgs::SinkPut;
use super::sinks::{check_name, prepare, secret_label};
use super::store::{ActionError, AlertFilter, Target};
use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::only_visible;
use crate::identity::store::ObjectKind;
use crate::identity::Principal;
use crate::{now, AppState};
use axum::extract::{Path, Query, State};
use axum::Json;
use ironroot_alerts::{AlertInput, AlertRecord, Resolver, Severity};
use ironroot_api::{AlertAction, AlertList, SinkInfo, SinkSpec};
use serde::Deserialize;
use std::sync::Arc;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertQuery {
    state: Option<String>,
    severity: Option<String>,
    since: Option<u64>,
    until: Option<u64>,
    /// What the source starts with (`policy/`: every violation).
    source: Option<String>,
    /// What the subject starts with.
    subject: Option<String>,
    /// A policy id: its violations (source `policy/{policy}`).
    policy: Option<String>,
    /// A cluster name: alerts about its objects (subject `cluster/{cluster}/`).
    cluster: Option<String>,
    /// A namespace, with `cluster` (subject `cluster/{cluster}/{namespace}/`).
    namespace: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// One text filter: bounded like the key part it matches, free of control characters;
/// `segment` ones (a policy, cluster or namespace name) hold no `/`, so that a prefix
/// built from them ends exactly at the segment. Empty means absent.
fn text_filter(
    name: &str,
    v: Option<String>,
    segment: bool,
) -> Result<Option<String>, ServiceError> {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > ironroot_alerts::MAX_KEY_PART || v.chars().any(char::is_control) {
        return Err(ServiceError::BadRequest(format!(
            "{name} is at most {} bytes, without control characters",
            ironroot_alerts::MAX_KEY_PART
        )));
    }
    if segment && v.contains('/') {
        return Err(ServiceError::BadRequest(format!(
            "{name} must not contain '/'"
        )));
    }
    Ok(Some(v))
}

impl AlertQuery {
    pub(super) fn filter(self) -> Result<AlertFilter, ServiceError> {
        let bad = |m: &str| ServiceError::BadRequest(m.into());
        if let Some(s) = &self.state {
            if !matches!(s.as_str(), "open" | "acknowledged" | "resolved") {
                return Err(bad("state is open, acknowledged or resolved"));
            }
        }
        let min_severity = self
            .severity
            .as_deref()
            .map(|s| {
                Severity::from_name(s)
                    .ok_or_else(|| bad("severity is unknown, info, low, medium, high or critical"))
            })
            .transpose()?;
        let after = self
            .after
            .as_deref()
            .map(|a| {
                a.split_once('.')
                    .and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_owned())))
                    .ok_or_else(|| bad("after is the `next` of a previous page"))
            })
            .transpose()?;
        let policy = text_filter("policy", self.policy, true)?;
        let cluster = text_filter("cluster", self.cluster, true)?;
        let namespace = text_filter("namespace", self.namespace, true)?;
        let mut subject_prefixes: Vec<String> = text_filter("subject", self.subject, false)?
            .into_iter()
            .collect();
        match (cluster, namespace) {
            (Some(c), Some(ns)) => subject_prefixes.push(format!("cluster/{c}/{ns}/")),
            (Some(c), None) => subject_prefixes.push(format!("cluster/{c}/")),
            (None, Some(_)) => return Err(bad("namespace needs cluster")),
            (None, None) => {}
        }
        Ok(AlertFilter {
            state: self.state,
            min_severity,
            since: self.since,
            until: self.until,
            source: policy.map(|p| format!("policy/{p}")),
            source_prefix: text_filter("source", self.source, false)?,
            subject_prefixes,
            org: None,
            after,
            limit: self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
        })
    }
}

/// `GET /v1/alerts?state=&severity=&since=&until=&source=&subject=&policy=&cluster=&namespace=&after=&limit=`:
/// most recently seen first; `severity` is the lowest one shown; `source` and `subject`
/// are prefixes; `policy`, `cluster` and `namespace` name a violation's parts. Only the
/// caller's organisation's alerts.
pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertList>, ServiceError> {
    let f = AlertFilter {
        org: principal.org,
        ..q.filter()?
    };
    let alerts = st.store.alerts(&f).await?;
    let next = (alerts.len() == f.limit as usize)
        .then(|| alerts.last().map(|a| format!("{}.{}", a.last_seen, a.id)))
        .flatten();
    Ok(Json(AlertList { alerts, next }))
}

/// Acknowledges or resolves `id` for `p`: another organisation's alert is not found, and
/// is left as it was.
async fn act(
    st: &AppState,
    p: &Principal,
    id: &str,
    input: AlertInput,
) -> Result<Json<AlertRecord>, ServiceError> {
    let target = match &p.org {
        Some(org) => Target::IdIn(id, org),
        None => Target::Id(id),
    };
    match st.store.transition_alert(target, input, now()).await {
        Ok(c) => {
            tracing::info!(alert = %c.id, change = c.change.as_str(), "alert changed by an administrator");
            st.alerts.poke();
            Ok(Json(c.alert.record(&c.id)))
        }
        Err(ActionError::NotFound) => Err(ServiceError::NotFound(format!("alert {id}"))),
        Err(ActionError::Illegal(e)) => Err(ServiceError::AlertTransition(e.to_string())),
        Err(ActionError::Store(e)) => Err(e.into()),
    }
}

/// `POST /v1/alerts/{id}/ack` with `{"by": NAME}`.
pub(crate) async fn ack(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<AlertAction>,
) -> Result<Json<AlertRecord>, ServiceError> {
    act(
        &st,
        &principal,
        &id,
        AlertInput::Acknowledge {
            by: principal.by(&a.by),
            at: now(),
        },
    )
    .await
}

/// `POST /v1/alerts/{id}/resolve` with `{"by": NAME}`.
pub(crate) async fn resolve(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<AlertAction>,
) -> Result<Json<AlertRecord>, ServiceError> {
    let input = AlertInput::Resolve {
        by: Resolver::Person(principal.by(&a.by)),
        at: now(),
    };
    act(&st, &principal, &id, input).await
}

/// `GET /v1/sinks`: the caller's organisation's sinks, their secrets never shown.
pub(crate) async fn list_sinks(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<SinkInfo>>, ServiceError> {
    let sinks = st.store.sinks().await?;
    let sinks = only_visible(&st, &principal, ObjectKind::Sink, sinks, |s| &s.name).await?;
    let mut out = Vec::new();
    for s in sinks {
        let (pending, last_error) = st.store.sink_backlog(&s.name).await?;
        out.push(SinkInfo {
            secret_set: s.sealed_secret.is_some(),
            name: s.name,
            spec: s.spec,
            pending,
            last_error,
        });
    }
    Ok(Json(out))
}

/// `PUT /v1/sinks/{name}`: creates (for the caller's organisation) or replaces (its own)
/// a sink. The answer is the sink as `GET /v1/sinks` shows it.
pub(crate) async fn put_sink(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<SinkSpec>,
) -> Result<Json<SinkInfo>, ServiceError> {
    check_name(&name).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let (spec, secret) = prepare(spec).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let sealed = secret
        .map(|s| st.master.seal(&secret_label(&name), s.as_bytes()))
        .transpose()
        .map_err(ServiceError::Internal)?;
    let org = principal.org.as_deref();
    let put = st
        .store
        .put_sink(&name, &spec, sealed.as_deref(), now(), org)
        .await?;
    if put == SinkPut::Taken {
        // Sink names are one namespace for the platform, so this tells the caller that
        // another organisation has a sink of that name (and nothing more about it): the
        // same trade-off as key names. Answering "not found" to a PUT would be no better.
        return Err(ServiceError::Conflict(format!(
            "the sink name {name} is taken: choose another"
        )));
    }
    tracing::info!(sink = %name, org = principal.home_org(), "alert sink configured");
    st.alerts.poke();
    let (pending, last_error) = st.store.sink_backlog(&name).await?;
    Ok(Json(SinkInfo {
        name,
        spec,
        secret_set: sealed.is_some(),
        pending,
        last_error,
    }))
}

/// `DELETE /v1/sinks/{name}`: the sink and what it had queued; another organisation's
/// sink is not found.
pub(crate) async fn remove_sink(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    if !st
        .store
        .delete_sink(&name, principal.org.as_deref())
        .await?
    {
        return Err(ServiceError::NotFound(format!("sink {name}")));
    }
    tracing::info!(sink = %name, "alert sink removed");
    Ok(Json(serde_json::json!({ "deleted": name })))
}

/// `GET /v1/alerts/{id}`: one alert of the caller's organisation.
pub(crate) async fn get_one(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<AlertRecord>, ServiceError> {
    st.store
        .alert(&id, principal.org.as_deref())
        .await?
        .map(Json)
        .ok_or_else(|| ServiceError::NotFound(format!("alert {id}")))
}
