//! `POST /v1/keys/{id}/release`: the I/O around one key release. Each step the
//! handler takes is a step of the release's state machine (`release.rs`); the machine's
//! end is what the release log records and what the node receives.

use super::release::{Reason, Release, Step};
use super::{binding, bounded, key_ref, policy, policy_of, MAX_REASON};
use crate::agent::enrolled_host;
use crate::error::{ApiJson, ServiceError};
use crate::identity::store::ObjectKind;
use crate::store::{HostRow, KeyRow, ReleaseRow};
use crate::tls::PeerIdentity;
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ironroot_api::{ReleaseRequest, ReleaseResponse, B64};
use ironroot_crypto::HashAlg;
use std::sync::Arc;

/// `POST /v1/keys/{id}/release` (node, mutual TLS): see the module comment.
pub(crate) async fn release(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReleaseRequest>,
) -> Result<Json<ReleaseResponse>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    st.limits
        .attest(host.cert_serial.as_deref().unwrap_or_default())?;
    // A malformed id is refused before it is looked up, stored or logged in full.
    let id = key_ref(&id)?;
    let Some(row) = st.store.key(id).await? else {
        return refuse_unknown_key(&st, &host, id).await;
    };
    // A key of another organisation than the host's does not exist for it.
    if !st
        .store
        .same_owner(
            (ObjectKind::Key, &row.key_id),
            (ObjectKind::Host, &host.host_id),
        )
        .await?
    {
        return refuse_unknown_key(&st, &host, id).await;
    }
    let mut evidence = serde_json::json!({ "key": row.name });
    let mut state = Release::Requested;
    let response = match decide(&st, &host, &row, &req, &mut evidence, &mut state).await {
        Ok(response) => Some(response),
        Err(reason) => {
            state = state.refuse(reason);
            None
        }
    };
    let report_id = state.report_id().map(str::to_owned);
    let outcome = state.outcome(&row.name, &host.hostname);
    let (released, reason) = match &outcome {
        Ok(()) => (true, "released".to_string()),
        Err(e) => (false, bounded(&e.to_string(), MAX_REASON)),
    };
    let record = ReleaseRow {
        seq: 0,
        key_id: row.key_id.clone(),
        host_id: Some(host.host_id.clone()),
        hostname: Some(host.hostname.clone()),
        at: now(),
        released,
        reason: reason.clone(),
        report_id,
        evidence_json: evidence.to_string(),
    };
    // A decision that cannot be recorded is not carried out.
    st.store.record_release(&record).await?;
    if released {
        tracing::info!(key = %row.name, host = %host.hostname, "key released");
    } else {
        tracing::warn!(key = %row.name, host = %host.hostname, %reason, "key release refused");
    }
    outcome?;
    response
        .map(Json)
        .ok_or_else(|| ServiceError::Internal("a released key without a response".into()))
}

/// Asking for a key that is not there is a refusal too, and is recorded: once, under
/// the id asked for, which `key_ref` bounded.
async fn refuse_unknown_key(
    st: &AppState,
    host: &HostRow,
    id: &str,
) -> Result<Json<ReleaseResponse>, ServiceError> {
    st.store
        .record_release(&ReleaseRow {
            seq: 0,
            key_id: id.to_owned(),
            host_id: Some(host.host_id.clone()),
            hostname: Some(host.hostname.clone()),
            at: now(),
            released: false,
            reason: "the key does not exist".into(),
            report_id: None,
            evidence_json: "{}".into(),
        })
        .await?;
    tracing::warn!(key = %id, host = %host.hostname, "release of an unknown key refused");
    Err(ServiceError::NotFound(format!("key {id}")))
}

/// Takes `state` through the release's steps ([`Release::next`]); an `Err` is why it
/// stops, for the caller to refuse with. `evidence` is the audit record's detail.
async fn decide(
    st: &AppState,
    host: &HostRow,
    row: &KeyRow,
    req: &ReleaseRequest,
    evidence: &mut serde_json::Value,
    state: &mut Release,
) -> Result<ReleaseResponse, Reason> {
    let failed = Reason::Failed;
    let policy = policy_of(row).map_err(failed)?;
    evidence["policy"] = serde_json::to_value(&policy).unwrap_or_default();
    let nonce = &req.evidence.nonce.0;
    st.nonce_key
        .check(&host.host_id, nonce, now())
        .map_err(|e| failed(ServiceError::NonceInvalid(e.to_string())))?;
    let binding = binding::binding_key(host, &req.binding_key, nonce).map_err(failed)?;
    evidence["binding_key_name"] = hex::encode(binding.public.name()).into();
    // The fresh attestation: the same path as any other, recorded as the host's verdict.
    // Its tags are read from the store after the quote was verified (`attest`).
    let outcome = crate::attest::attest(st, host, &req.evidence)
        .await
        .map_err(failed)?;
    advance(
        state,
        Step::Attested {
            report_id: outcome.report_id.clone(),
        },
    )?;
    evidence["report_id"] = outcome.report_id.clone().into();
    evidence["trusted"] = outcome.report.trusted.into();
    evidence["group"] = outcome.report.group.clone().into();
    evidence["asset_tags"] = serde_json::to_value(&outcome.report.asset_tags).unwrap_or_default();
    policy::check(&policy, &outcome.report, now()).map_err(Reason::Policy)?;
    if !policy.asset_tags.is_empty() {
        // The last word before the key leaves: a tag revoked since the attestation read
        // it is not honoured.
        let current = st
            .store
            .current_tag_digest(&host.host_id)
            .await
            .map_err(|e| failed(e.into()))?;
        policy::tag_still_current(
            current.as_deref(),
            req.evidence.asset_tag.as_ref().map(|t| t.0.as_slice()),
        )
        .map_err(Reason::Policy)?;
    }
    advance(state, Step::PolicyMet)?;
    let material = st
        .master
        .open(&row.key_id, &row.sealed)
        .map_err(|e| failed(ServiceError::Internal(e)))?;
    let wrapped = binding
        .rsa
        .encrypt_oaep(HashAlg::Sha256, b"TPM2\0", &material)
        .map_err(|e| failed(ServiceError::Internal(e.to_string())))?;
    advance(state, Step::Wrapped)?;
    Ok(ReleaseResponse {
        key_id: row.key_id.clone(),
        wrapped_key: B64(wrapped),
        report_id: outcome.report_id,
        report_jws: outcome.jws,
    })
}

/// Moves `state` one step; a step out of order is the handler's bug, and refuses.
fn advance(state: &mut Release, step: Step) -> Result<(), Reason> {
    *state = state
        .next(step)
        .map_err(|e| Reason::Failed(ServiceError::Internal(e.to_string())))?;
    Ok(())
}
