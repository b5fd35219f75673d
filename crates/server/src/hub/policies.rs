//! The versioned policy set (administrator) and the signed bundle (a cluster): a new
//! version is validated by the policy engine's own loader and must be the current
//! version plus one; a bundle is a compact JWS under the report-signing key, bound to
//! the calling cluster.

use super::store::{PolicyMeta, VersionRow};
use super::CallingCluster;
use crate::error::{ApiJson, ServiceError};
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

fn no_policy_set() -> ServiceError {
    ServiceError::NotFound("policy set (none has been written yet: PUT /v1/policies)".into())
}

/// `PUT /v1/policies`.
pub(crate) async fn put_policies(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
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
    let current = st.store.current_policy_version().await?.unwrap_or(0);
    let stale = || {
        ServiceError::Conflict(format!(
            "the policy set is at version {current}; a change must carry version {} (it \
             carries {}): read the current set, apply your change and retry",
            current + 1,
            set.version
        ))
    };
    if set.version != current + 1 {
        return Err(stale());
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
    // Two changes read the same current version: the database takes one.
    if !st
        .store
        .insert_policy_version(&row, &change.document)
        .await?
    {
        return Err(stale());
    }
    tracing::info!(version = row.version.version, by = %row.version.by, "policy set changed");
    Ok(Json(row.version))
}

async fn document(st: &AppState, n: Option<u64>) -> Result<PolicyDocument, ServiceError> {
    match st.store.policy_version(n, true).await? {
        Some((v, Some(document))) => Ok(PolicyDocument {
            version: v.version,
            document,
        }),
        _ => Err(match n {
            Some(n) => ServiceError::NotFound(format!("policy version {n}")),
            None => no_policy_set(),
        }),
    }
}

/// `GET /v1/policies`: the current version.
pub(crate) async fn current_policies(
    State(st): State<Arc<AppState>>,
) -> Result<Json<PolicyDocument>, ServiceError> {
    Ok(Json(document(&st, None).await?))
}

/// `GET /v1/policies/versions/{n}`.
pub(crate) async fn policy_version(
    State(st): State<Arc<AppState>>,
    Path(n): Path<u64>,
) -> Result<Json<PolicyDocument>, ServiceError> {
    Ok(Json(document(&st, Some(n)).await?))
}

/// `GET /v1/policies/versions`: newest first.
pub(crate) async fn policy_versions(
    State(st): State<Arc<AppState>>,
) -> Result<Json<PolicyHistory>, ServiceError> {
    Ok(Json(PolicyHistory {
        versions: st.store.policy_versions().await?,
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
    let current = st
        .store
        .current_policy_version()
        .await?
        .ok_or_else(no_policy_set)?;
    let etag = HeaderValue::from_str(&format!("\"{current}\""))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if none_match(&headers, current) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let doc = document(&st, Some(current)).await?;
    let payload = BundlePayload {
        version: doc.version.version,
        cluster: cluster.id,
        cluster_name: cluster.name,
        issued_at: now(),
        sha256: doc.version.sha256,
        document: doc.document,
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
