//! The key broker (brief R6): AES-256 keys with transfer policies, sealed at rest under a
//! master key, released only to a node that proves its state by a fresh attestation in
//! the same request and presents a TPM-resident binding key certified by its AK. The key
//! is wrapped to that binding key (RSA-OAEP-SHA256, label "TPM2\0", as SecL-DC does), so
//! only that TPM can open it. Every release and refusal is recorded.

mod binding;
pub(crate) mod master;
mod policy;

use crate::admin::require_admin;
use crate::agent::enrolled_host;
use crate::error::{ApiJson, ServiceError};
use crate::store::{HostRow, KeyRow, ReleaseRow};
use crate::tls::PeerIdentity;
use crate::{now, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ironroot_api::{
    CreateKey, KeyInfo, KeyPolicy, ReleaseRecord, ReleaseRequest, ReleaseResponse, WrapRequest,
    WrappedBlob, B64,
};
use ironroot_crypto::HashAlg;
use serde::Deserialize;
use std::sync::Arc;

/// Largest plaintext `wrap` seals (an image layer's private options are ~150 bytes).
const MAX_WRAP: usize = 64 * 1024;
/// Longest key name; a key id (a UUID) is shorter. Nothing longer read from a request is
/// looked up, stored or logged.
const MAX_KEY_REF: usize = 128;
/// Longest refusal reason stored in the release log or logged: a refusal can quote
/// faults, whose text comes partly from the node's evidence.
const MAX_REASON: usize = 1024;

/// `POST /v1/keys`: creates a random AES-256 key, or imports 32 given bytes.
pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Json<KeyInfo>, ServiceError> {
    require_admin(&st, &headers)?;
    check_name(&req.name)?;
    let created_at = now();
    check_new_policy(&req.policy, created_at)?;
    let imported = req.material.is_some();
    let material = match req.material {
        Some(B64(m)) if m.len() == 32 => zeroize::Zeroizing::new(m),
        Some(B64(m)) => {
            return Err(ServiceError::BadRequest(format!(
                "an imported key is 32 bytes (AES-256), not {}",
                m.len()
            )))
        }
        None => zeroize::Zeroizing::new(
            ironroot_crypto::random_bytes(32).map_err(|e| ServiceError::Internal(e.to_string()))?,
        ),
    };
    let key_id = uuid::Uuid::new_v4().to_string();
    let row = KeyRow {
        sealed: st
            .master
            .seal(&key_id, &material)
            .map_err(ServiceError::Internal)?,
        key_id,
        name: req.name,
        policy_json: serde_json::to_string(&req.policy)
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
        created_at,
        imported,
    };
    if !st.store.insert_key(&row).await? {
        return Err(ServiceError::BadRequest(format!(
            "a key named {} exists",
            row.name
        )));
    }
    tracing::info!(key = %row.name, key_id = %row.key_id, imported, "broker key created");
    Ok(Json(info(&row)?))
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<KeyInfo>>, ServiceError> {
    require_admin(&st, &headers)?;
    let rows = st.store.keys().await?;
    Ok(Json(rows.iter().map(info).collect::<Result<_, _>>()?))
}

/// `GET /v1/keys/{id}`: one key (by id or name), never its material.
pub(crate) async fn show(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<KeyInfo>, ServiceError> {
    require_admin(&st, &headers)?;
    Ok(Json(info(&find_key(&st, &id).await?)?))
}

/// `POST /v1/keys/{id}/wrap`: seals bytes under the key inside the broker (the image
/// encryption path: the build host never holds the key).
pub(crate) async fn wrap(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WrapRequest>,
) -> Result<Json<WrappedBlob>, ServiceError> {
    require_admin(&st, &headers)?;
    if req.plaintext.0.len() > MAX_WRAP {
        return Err(ServiceError::BadRequest(format!(
            "at most {MAX_WRAP} bytes can be wrapped"
        )));
    }
    let row = find_key(&st, &id).await?;
    let policy = policy_of(&row)?;
    if policy.expires_at.is_some_and(|at| now() >= at) {
        return Err(ServiceError::BadRequest(format!(
            "key {} has expired",
            row.name
        )));
    }
    let material = st
        .master
        .open(&row.key_id, &row.sealed)
        .map_err(ServiceError::Internal)?;
    let s = ironroot_crypto::aes_gcm_seal(&material, row.key_id.as_bytes(), &req.plaintext.0)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut ciphertext = s.ciphertext;
    ciphertext.extend_from_slice(&s.tag);
    Ok(Json(WrappedBlob {
        key_id: row.key_id,
        iv: B64(s.iv.to_vec()),
        ciphertext: B64(ciphertext),
    }))
}

/// A new key's policy: stated (never `{}`), with tags a host could carry, not expired.
fn check_new_policy(policy: &KeyPolicy, now: u64) -> Result<(), ServiceError> {
    policy
        .check_stated()
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    // The same rules as the tags a host can carry: a policy no tag can satisfy is refused.
    if !policy.asset_tags.is_empty() {
        crate::tags::check_tags(&policy.asset_tags)?;
    }
    if policy.expires_at.is_some_and(|at| at <= now) {
        return Err(ServiceError::BadRequest(
            "the policy's expires_at is in the past".into(),
        ));
    }
    Ok(())
}

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
    let mut evidence = serde_json::json!({ "key": row.name });
    let decision = decide(&st, &host, &row, &req, &mut evidence).await;
    let (released, reason, report_id) = match &decision {
        Ok(r) => (true, "released".to_string(), Some(r.report_id.clone())),
        Err(e) => (
            false,
            bounded(&e.to_string(), MAX_REASON),
            evidence["report_id"].as_str().map(str::to_owned),
        ),
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
    decision.map(Json)
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

async fn decide(
    st: &AppState,
    host: &HostRow,
    row: &KeyRow,
    req: &ReleaseRequest,
    evidence: &mut serde_json::Value,
) -> Result<ReleaseResponse, ServiceError> {
    let policy = policy_of(row)?;
    evidence["policy"] = serde_json::to_value(&policy).unwrap_or_default();
    let nonce = &req.evidence.nonce.0;
    st.nonce_key
        .check(&host.host_id, nonce, now())
        .map_err(|e| ServiceError::NonceInvalid(e.to_string()))?;
    let binding = binding::binding_key(host, &req.binding_key, nonce)?;
    evidence["binding_key_name"] = hex::encode(binding.public.name()).into();
    // The fresh attestation: the same path as any other, recorded as the host's verdict.
    // Its tags are read from the store after the quote was verified (`attest`).
    let outcome = crate::attest::attest(st, host, &req.evidence).await?;
    evidence["report_id"] = outcome.report_id.clone().into();
    evidence["trusted"] = outcome.report.trusted.into();
    evidence["group"] = outcome.report.group.clone().into();
    evidence["asset_tags"] = serde_json::to_value(&outcome.report.asset_tags).unwrap_or_default();
    let refused = |r: policy::Refusal| {
        ServiceError::Forbidden(format!(
            "key {} was not released to {}: {r}",
            row.name, host.hostname
        ))
    };
    policy::check(&policy, &outcome.report, now()).map_err(refused)?;
    if !policy.asset_tags.is_empty() {
        // The last word before the key leaves: a tag revoked since the attestation read
        // it is not honoured.
        let current = st.store.current_tag_digest(&host.host_id).await?;
        policy::tag_still_current(
            current.as_deref(),
            req.evidence.asset_tag.as_ref().map(|t| t.0.as_slice()),
        )
        .map_err(refused)?;
    }
    let material = st
        .master
        .open(&row.key_id, &row.sealed)
        .map_err(ServiceError::Internal)?;
    let wrapped = binding
        .rsa
        .encrypt_oaep(HashAlg::Sha256, b"TPM2\0", &material)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ReleaseResponse {
        key_id: row.key_id.clone(),
        wrapped_key: B64(wrapped),
        report_id: outcome.report_id,
        report_jws: outcome.jws,
    })
}

#[derive(Deserialize)]
pub(crate) struct ReleaseQuery {
    key: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/keys/releases?key=&limit=`: the release log, newest first.
pub(crate) async fn releases(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ReleaseQuery>,
) -> Result<Json<Vec<ReleaseRecord>>, ServiceError> {
    require_admin(&st, &headers)?;
    let key_id = match &q.key {
        Some(k) => Some(find_key(&st, k).await?.key_id),
        None => None,
    };
    let rows = st
        .store
        .releases(key_id.as_deref(), q.limit.unwrap_or(100).min(10_000))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ReleaseRecord {
                seq: r.seq,
                key_id: r.key_id,
                host_id: r.host_id,
                hostname: r.hostname,
                at: r.at,
                released: r.released,
                reason: r.reason,
                report_id: r.report_id,
                evidence: serde_json::from_str(&r.evidence_json).unwrap_or_default(),
            })
            .collect(),
    ))
}

async fn find_key(st: &AppState, id: &str) -> Result<KeyRow, ServiceError> {
    let id = key_ref(id)?;
    st.store
        .key(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("key {id}")))
}

fn policy_of(row: &KeyRow) -> Result<KeyPolicy, ServiceError> {
    serde_json::from_str(&row.policy_json)
        .map_err(|e| ServiceError::Internal(format!("stored policy of key {}: {e}", row.name)))
}

fn info(row: &KeyRow) -> Result<KeyInfo, ServiceError> {
    Ok(KeyInfo {
        key_id: row.key_id.clone(),
        name: row.name.clone(),
        policy: policy_of(row)?,
        created_at: row.created_at,
        imported: row.imported,
    })
}

/// Key names: 1 to `MAX_KEY_REF` letters, digits, '-', '_', '.', '/'. Key ids (UUIDs)
/// are names too.
fn valid_key_ref(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KEY_REF
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    if valid_key_ref(name) {
        Ok(())
    } else {
        Err(ServiceError::BadRequest(format!(
            "a key name is 1 to {MAX_KEY_REF} letters, digits, '-', '_', '.' or '/', not {:?}",
            bounded(name, 64)
        )))
    }
}

/// A key id or name from a request path or query, refused (400, and nothing stored)
/// unless it could name a key.
fn key_ref(id: &str) -> Result<&str, ServiceError> {
    if valid_key_ref(id) {
        Ok(id)
    } else {
        Err(ServiceError::BadRequest(format!(
            "not a key id or name ({} bytes; a key is named by 1 to {MAX_KEY_REF} letters, \
             digits, '-', '_', '.' or '/')",
            id.len()
        )))
    }
}

/// `s`, cut to at most `max` bytes on a character boundary, marked when cut.
fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests;
