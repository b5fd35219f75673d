//! Each organisation's versioned policy set (administrator) and the signed bundle (a
//! cluster): a new version is validated by the policy engine's own loader and must carry
//! the next number of the counter every organisation shares; a bundle carries the
//! current set of the calling cluster's organisation, as a compact JWS under the
//! report-signing key, bound to that cluster.

use super::store::{PolicyMeta, VersionRow};
use super::CallingCluster;
use crate::error::{ApiJson, ServiceError};
use crate::identity::Principal;
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ironroot_api::{
    BundlePayload, PolicyChange, PolicyDocument, PolicyHistory, PolicyVersion, SignedBundle,
};
use std::sync::Arc;

/// The JWS `typ` of a policy bundle.
pub(crate) const BUNDLE_TYP: &str = "ironroot-policy-bundle+jws";
/// The longest `by` and `comment` of a change, in bytes.
const MAX_ACTOR: usize = 256;
const MAX_COMMENT: usize = 4096;

fn no_policy_set(org: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "policy set of organisation {org} (none has been written yet: PUT /v1/policies)"
    ))
}

/// The organisation whose set a caller reads and changes: its own; the bootstrap
/// credential, above organisations, acts on the platform's (`default`).
fn org_of(p: &Principal) -> &str {
    p.home_org()
}

/// `PUT /v1/policies`: a new version of the caller's organisation's set.
pub(crate) async fn put_policies(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    ApiJson(change): ApiJson<PolicyChange>,
) -> Result<Json<PolicyVersion>, ServiceError> {
    if change.by.trim().is_empty()
        || change.by.len() > MAX_ACTOR
        || change.by.contains(char::is_control)
    {
        return Err(ServiceError::BadRequest(format!(
            "`by` names who makes the change: 1-{MAX_ACTOR} bytes, no control characters"
        )));
    }
    if change
        .comment
        .as_ref()
        .is_some_and(|c| c.len() > MAX_COMMENT)
    {
        return Err(ServiceError::BadRequest(format!(
            "the comment is longer than {MAX_COMMENT} bytes"
        )));
    }
    // YAML is a superset of JSON: one loader takes both.
    let set = ironroot_policy::PolicySet::from_yaml(change.document.as_bytes())
        .map_err(|e| ServiceError::BadRequest(format!("invalid policy set: {e}")))?;
    let org = org_of(&principal);
    // The number is the next of the counter every organisation shares, so that a change
    // is refused when anything changed since it was read (a compare-and-set), and a
    // cluster moved to another organisation is offered a newer version, never an older.
    let last = st.store.last_policy_version().await?.unwrap_or(0);
    let own = st.store.current_policy_version(org).await?;
    let stale = |last: u64| {
        let own = own.map_or_else(
            || "has no version yet".to_owned(),
            |v| format!("is at version {v}"),
        );
        ServiceError::Conflict(format!(
            "the policy set of {org} {own}; version numbers are shared by every organisation \
             and the next is {}: a change must carry version {} (it carries {}): read the \
             current set, apply your change and retry",
            last + 1,
            last + 1,
            set.version
        ))
    };
    if set.version != last + 1 {
        return Err(stale(last));
    }
    let row = VersionRow {
        version: PolicyVersion {
            version: set.version,
            sha256: hex::encode(ironroot_crypto::digest(
                ironroot_crypto::HashAlg::Sha256,
                change.document.as_bytes(),
            )),
            by: principal.by(&change.by),
            at: now(),
            comment: change.comment,
            policies: set.policies().iter().map(|p| p.id.clone()).collect(),
        },
        policies: set
            .policies()
            .iter()
            .map(|p| PolicyMeta {
                id: p.id.clone(),
                severity: p.severity.name().to_owned(),
                description: p.description.clone(),
            })
            .collect(),
    };
    // Two changes read the same number: the database takes one.
    if !st
        .store
        .insert_policy_version(org, &row, &change.document)
        .await?
    {
        let last = st.store.last_policy_version().await?.unwrap_or(0);
        return Err(stale(last));
    }
    tracing::info!(version = row.version.version, org, by = %row.version.by, "policy set changed");
    Ok(Json(row.version))
}

/// `GET /v1/policies`: the current version of the caller's organisation.
pub(crate) async fn current_policies(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<PolicyDocument>, ServiceError> {
    let org = org_of(&principal);
    match st.store.current_policy(org, true).await? {
        Some((v, Some(document))) => Ok(Json(PolicyDocument {
            version: v.version,
            document,
        })),
        _ => Err(no_policy_set(org)),
    }
}

/// `GET /v1/policies/versions/{n}`: another organisation's version is not found.
pub(crate) async fn policy_version(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(n): Path<u64>,
) -> Result<Json<PolicyDocument>, ServiceError> {
    match st.store.policy_version(n, principal.org.as_deref()).await? {
        Some((v, document)) => Ok(Json(PolicyDocument {
            version: v.version,
            document,
        })),
        None => Err(ServiceError::NotFound(format!("policy version {n}"))),
    }
}

/// `GET /v1/policies/versions`: the caller's organisation's (every one's for the
/// bootstrap credential), newest first.
pub(crate) async fn policy_versions(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<PolicyHistory>, ServiceError> {
    Ok(Json(PolicyHistory {
        versions: st.store.policy_versions(principal.org.as_deref()).await?,
    }))
}

/// The versions an `If-None-Match` header names (`"7"`, `W/"7"`, lists; `*` is any).
fn none_match(headers: &HeaderMap, version: u64) -> bool {
    let etag = format!("\"{version}\"");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /v1/cluster/bundle`: 304 when the caller holds the current version.
pub(crate) async fn bundle(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    // The current set of the cluster's organisation. One without a set answers as the
    // platform did before any set existed (404), which the controller treats as the hub
    // having nothing new: it keeps the set it holds, and nothing is taken down.
    let (org, current) = st.store.cluster_policy_version(&cluster.id).await?;
    let current = current.ok_or_else(|| no_policy_set(&org))?;
    let etag = HeaderValue::from_str(&format!("\"{current}\""))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if none_match(&headers, current) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let (v, document) = st
        .store
        .policy_version(current, Some(&org))
        .await?
        .ok_or_else(|| no_policy_set(&org))?;
    let payload = BundlePayload {
        version: v.version.version,
        cluster: cluster.id,
        cluster_name: cluster.name,
        issued_at: now(),
        sha256: v.version.sha256,
        document,
    };
    let bytes = serde_json::to_vec(&payload).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let jws = st
        .signer
        .sign_compact(BUNDLE_TYP, &bytes)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let body = SignedBundle {
        version: payload.version,
        jws,
    };
    Ok(([(header::ETAG, etag)], Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_version_in_its_usual_forms() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(none_match(&h("\"7\""), 7));
        assert!(none_match(&h("W/\"7\""), 7));
        assert!(none_match(&h("\"6\", \"7\""), 7));
        assert!(none_match(&h("*"), 7));
        assert!(!none_match(&h("\"6\""), 7));
        assert!(!none_match(&h("7"), 7));
        assert!(!none_match(&HeaderMap::new(), 7));
    }
}
