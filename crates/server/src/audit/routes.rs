//! The log's routes. Public (like `/.well-known/jwks.json`): the signed checkpoint and the
//! verifier key, which is all an offline verifier needs to trust. Auditor or
//! administrator: entries and proofs, checked against the log's current size.

use super::checkpoint::CheckpointError;
use crate::error::ServiceError;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ironroot_api::{AuditEntries, ConsistencyProof, InclusionProof, B64, MAX_AUDIT_PAGE};
use serde::Deserialize;
use std::sync::Arc;

const TEXT: &str = "text/plain; charset=utf-8";

impl From<CheckpointError> for ServiceError {
    fn from(e: CheckpointError) -> Self {
        match e {
            CheckpointError::Store(e) => ServiceError::Store(e),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ServiceError> {
    q.map(|Query(v)| v)
        .map_err(|e| ServiceError::BadRequest(format!("invalid query: {}", e.body_text())))
}

/// `GET /.well-known/ironroot-log/checkpoint`: the latest signed checkpoint, signed now
/// if the log grew since the last one.
pub(crate) async fn checkpoint(State(st): State<Arc<AppState>>) -> Result<Response, ServiceError> {
    let note = st.audit.current(&st.store).await?;
    Ok(([(CONTENT_TYPE, TEXT)], note).into_response())
}

/// `GET /.well-known/ironroot-log/key`: the note verifier key of the log.
pub(crate) async fn key(State(st): State<Arc<AppState>>) -> Response {
    ([(CONTENT_TYPE, TEXT)], st.audit.verifier_key().to_owned()).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesQuery {
    start: u64,
    end: Option<u64>,
}

/// `GET /v1/audit/entries?start&end`: at most [`MAX_AUDIT_PAGE`] entries from `start`,
/// fewer at the log's end (none past it). Another organisation's credential than the
/// platform's (`default`) reads only the entries that concern its organisation; the
/// proofs, which hold hashes only, are the same for everyone.
pub(crate) async fn entries_page(
    State(st): State<Arc<AppState>>,
    p: crate::identity::Principal,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<AuditEntries>, ServiceError> {
    let q = query(q)?;
    let end = q.end.unwrap_or(u64::MAX);
    if end < q.start {
        return Err(ServiceError::BadRequest(format!(
            "end {end} is before start {}",
            q.start
        )));
    }
    // The platform's own credentials audit the platform: the whole log.
    let organisation = p.org.filter(|o| o != crate::identity::DEFAULT_ORG);
    let size = st.store.audit_size().await?;
    let end = end.min(q.start.saturating_add(MAX_AUDIT_PAGE)).min(size);
    let entries = if q.start < end {
        st.store
            .audit_entries(q.start..end, organisation.as_deref())
            .await?
    } else {
        Vec::new()
    };
    Ok(Json(AuditEntries {
        entries,
        size,
        organisation,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /v1/audit/proof/inclusion?index&size`.
pub(crate) async fn inclusion_proof(
    State(st): State<Arc<AppState>>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProof>, ServiceError> {
    let InclusionQuery { index, size } = query(q)?;
    within_log(&st, size).await?;
    if index >= size {
        return Err(ServiceError::BadRequest(format!(
            "entry {index} is not in a tree of {size} entries"
        )));
    }
    let hashes = st.store.audit_inclusion(index, size).await?;
    Ok(Json(InclusionProof {
        index,
        size,
        hashes: hashes.into_iter().map(|h| B64(h.to_vec())).collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /v1/audit/proof/consistency?from&to`.
pub(crate) async fn consistency_proof(
    State(st): State<Arc<AppState>>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProof>, ServiceError> {
    let ConsistencyQuery { from, to } = query(q)?;
    within_log(&st, to).await?;
    if from > to {
        return Err(ServiceError::BadRequest(format!(
            "from {from} is larger than to {to}"
        )));
    }
    let hashes = st.store.audit_consistency(from, to).await?;
    Ok(Json(ConsistencyProof {
        from,
        to,
        hashes: hashes.into_iter().map(|h| B64(h.to_vec())).collect(),
    }))
}

/// A tree size the log has reached.
async fn within_log(st: &AppState, size: u64) -> Result<(), ServiceError> {
    let current = st.store.audit_size().await?;
    if size > current {
        return Err(ServiceError::BadRequest(format!(
            "the log holds {current} entries, not {size}"
        )));
    }
    Ok(())
}
