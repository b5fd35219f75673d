//! What clusters report (compliance, violations; checked against the wire contract's
//! limits before anything is stored) and what administrators read back (the overview,
//! the history as JSON or CSV).

use super::overview::{csv, overview, Clock};
use super::store::HistoryFilter;
use super::CallingCluster;
use crate::error::{ApiJson, ServiceError};
use crate::identity::store::ObjectKind;
use crate::identity::{Principal, DEFAULT_ORG};
use crate::{now, AppState};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ironroot_api::{
    ComplianceHistory, ComplianceOverview, ComplianceReport, ObjectRef, ViolationBatch,
    MAX_REPORTED_POLICIES, MAX_SAMPLES, MAX_VIOLATION_BATCH,
};
use serde::Deserialize;
use std::sync::Arc;

/// The most changes one history export returns; a wider query is refused, asking for a
/// narrower window, rather than cut short without a word.
pub(crate) const MAX_HISTORY_ROWS: usize = 10_000;
/// The longest policy id, namespace, kind or name a report may carry, in bytes.
const MAX_NAME: usize = 253;
/// The longest message of a sample or violation, in bytes.
const MAX_MESSAGE: usize = 2048;

fn bad(msg: String) -> ServiceError {
    ServiceError::BadRequest(msg)
}

fn check_name(what: &str, s: &str) -> Result<(), ServiceError> {
    if s.is_empty() || s.len() > MAX_NAME || s.contains(char::is_control) {
        return Err(bad(format!(
            "{what} must be 1-{MAX_NAME} bytes without control characters"
        )));
    }
    Ok(())
}

fn check_object(o: &ObjectRef, message: &str) -> Result<(), ServiceError> {
    check_name("an object's namespace", &o.namespace)?;
    check_name("an object's kind", &o.kind)?;
    check_name("an object's name", &o.name)?;
    if message.len() > MAX_MESSAGE {
        return Err(bad(format!("a message is longer than {MAX_MESSAGE} bytes")));
    }
    Ok(())
}

/// Checks a compliance report against the contract's limits.
pub(crate) fn check_report(r: &ComplianceReport) -> Result<(), ServiceError> {
    if r.policies.len() > MAX_REPORTED_POLICIES {
        return Err(bad(format!(
            "a report carries at most {MAX_REPORTED_POLICIES} policies (this one {})",
            r.policies.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for p in &r.policies {
        check_name("a policy id", &p.policy)?;
        if !seen.insert(p.policy.as_str()) {
            return Err(bad(format!("policy {} is reported twice", p.policy)));
        }
        if p.samples.len() > MAX_SAMPLES {
            return Err(bad(format!(
                "policy {}: at most {MAX_SAMPLES} samples per policy (this one {})",
                p.policy,
                p.samples.len()
            )));
        }
        for s in &p.samples {
            check_object(&s.object, &s.message)?;
        }
    }
    Ok(())
}

/// `POST /v1/cluster/compliance`.
pub(crate) async fn report_compliance(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    ApiJson(r): ApiJson<ComplianceReport>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    check_report(&r)?;
    let (_, current) = st.store.cluster_policy_version(&cluster.id).await?;
    let current = current.unwrap_or(0);
    if r.policy_version > current {
        return Err(bad(format!(
            "the report names policy version {}, but the newest of the cluster's \
             organisation is {current}",
            r.policy_version
        )));
    }
    let changed = st.store.record_compliance(&cluster, &r, now()).await?;
    super::alerting::on_report(&st, &cluster, &r, &changed).await?;
    Ok(Json(serde_json::json!({ "changed": changed.len() })))
}

/// `POST /v1/cluster/violations`: each one an alert and an audit entry (`admission.decision`
/// or `policy.finding`), written together.
pub(crate) async fn report_violations(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    ApiJson(b): ApiJson<ViolationBatch>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    if b.violations.len() > MAX_VIOLATION_BATCH {
        return Err(bad(format!(
            "a batch carries at most {MAX_VIOLATION_BATCH} violations (this one {})",
            b.violations.len()
        )));
    }
    for v in &b.violations {
        check_name("a policy id", &v.policy)?;
        check_object(&v.object, &v.message)?;
    }
    let raised = super::alerting::on_violations(&st, &cluster, &b).await?;
    Ok(Json(serde_json::json!({ "alerts": raised })))
}

/// `GET /v1/compliance`: the caller's organisation's current set across its clusters
/// (the bootstrap credential's: the platform's, `default`, as for `GET /v1/policies`;
/// an overview is of one set).
pub(crate) async fn compliance(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<ComplianceOverview>, ServiceError> {
    let org = principal.home_org();
    let current = st.store.current_policy(org, false).await?.map(|(v, _)| v);
    let owners = st.store.owners(ObjectKind::Cluster).await?;
    let clusters: Vec<_> = st
        .store
        .clusters()
        .await?
        .into_iter()
        .filter(|c| owners.get(&c.id).map_or(DEFAULT_ORG, String::as_str) == org)
        .collect();
    let rows = st.store.compliance_rows().await?;
    let clock = Clock {
        now: now(),
        stale_secs: st.config.cluster_stale_secs,
    };
    Ok(Json(overview(current.as_ref(), &clusters, &rows, clock)))
}

/// `GET /v1/compliance/history`'s query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    since: Option<u64>,
    until: Option<u64>,
    cluster: Option<String>,
    policy: Option<String>,
    format: Option<String>,
}

/// `GET /v1/compliance/history?since&until&cluster&policy&format=json|csv`.
/// Only the caller's organisation's clusters (every one's for the bootstrap credential).
pub(crate) async fn compliance_history(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    q: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ServiceError> {
    let Query(q) = q.map_err(|e| bad(format!("invalid query: {}", e.body_text())))?;
    let as_csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(bad(format!("format is json or csv, not {other:?}"))),
    };
    let f = HistoryFilter {
        since: q.since.unwrap_or(0),
        until: q.until.unwrap_or(u64::MAX),
        cluster: q.cluster.filter(|c| !c.is_empty()),
        policy: q.policy.filter(|p| !p.is_empty()),
        org: principal.org.clone(),
    };
    let changes = st
        .store
        .compliance_history(&f, MAX_HISTORY_ROWS + 1)
        .await?;
    if changes.len() > MAX_HISTORY_ROWS {
        return Err(bad(format!(
            "more than {MAX_HISTORY_ROWS} changes match: narrow the query (since, until, \
             cluster, policy)"
        )));
    }
    if as_csv {
        let headers = [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"compliance-history.csv\"",
            ),
        ];
        return Ok((headers, csv(&changes)).into_response());
    }
    Ok(Json(ComplianceHistory { changes }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironroot_api::{ComplianceStatus, PolicyCompliance, ViolationSample};

    fn policy(id: &str, samples: usize) -> PolicyCompliance {
        PolicyCompliance {
            policy: id.into(),
            status: ComplianceStatus::NonCompliant,
            checked: 1,
            violations: 1,
            unknown: 0,
            samples: (0..samples)
                .map(|i| ViolationSample {
                    object: ObjectRef {
                        namespace: "ns".into(),
                        kind: "Pod".into(),
                        name: format!("p{i}"),
                    },
                    message: "m".into(),
                })
                .collect(),
        }
    }

    fn report(policies: Vec<PolicyCompliance>) -> ComplianceReport {
        ComplianceReport {
            policy_version: 1,
            generated_at: 1,
            webhook_serving: true,
            policies,
        }
    }

    fn refused(r: &ComplianceReport) -> String {
        match check_report(r) {
            Err(ServiceError::BadRequest(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn reports_within_the_contract_pass_and_beyond_it_are_refused_saying_why() {
        assert!(check_report(&report(vec![policy("a", MAX_SAMPLES)])).is_ok());
        let many = (0..=MAX_REPORTED_POLICIES)
            .map(|i| policy(&format!("p{i}"), 0))
            .collect();
        assert!(refused(&report(many)).contains("at most 256 policies"));
        assert!(refused(&report(vec![policy("a", MAX_SAMPLES + 1)])).contains("samples"));
        assert!(refused(&report(vec![policy("a", 0), policy("a", 0)])).contains("twice"));
        assert!(refused(&report(vec![policy("", 0)])).contains("policy id"));
        let mut hostile = policy("a", 1);
        hostile.samples[0].object.name = "x\ny".into();
        assert!(refused(&report(vec![hostile])).contains("object's name"));
        let mut long = policy("a", 1);
        long.samples[0].message = "m".repeat(MAX_MESSAGE + 1);
        assert!(refused(&report(vec![long])).contains("message"));
    }
}
