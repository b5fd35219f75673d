//! The key broker (brief R6): AES-256 keys with transfer policies, sealed at rest under a
//! master key, released only to a node that proves its state by a fresh attestation in
//! the same request and presents a TPM-resident binding key certified by its AK. The key
//! is wrapped to that binding key (RSA-OAEP-SHA256, label "TPM2\0", as SecL-DC does), so
//! only that TPM can open it. Every release and refusal is recorded.

mod binding;
pub(crate) mod master;
mod policy;
mod release;
mod transfer;

use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::{only_visible, visible};
use crate::identity::store::ObjectKind;
use crate::identity::Principal;
use crate::store::KeyRow;
use crate::{now, AppState};
use axum::extract::{Path, Query, State};
use axum::Json;
use ironroot_api::{CreateKey, KeyInfo, KeyPolicy, ReleaseRecord, WrapRequest, WrappedBlob, B64};
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
    principal: crate::identity::Principal,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Json<KeyInfo>, ServiceError> {
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
    // The owner first: a failure after it leaves an owner without a key, never a key in
    // the wrong organisation.
    st.store
        .set_owner(ObjectKind::Key, &key_id, principal.home_org())
        .await?;
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

pub(crate) use transfer::release;

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
) -> Result<Json<Vec<KeyInfo>>, ServiceError> {
    let rows = st.store.keys().await?;
    let rows = only_visible(&st, &principal, ObjectKind::Key, rows, |k| &k.key_id).await?;
    Ok(Json(rows.iter().map(info).collect::<Result<_, _>>()?))
}

/// `GET /v1/keys/{id}`: one key (by id or name), never its material.
pub(crate) async fn show(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<KeyInfo>, ServiceError> {
    Ok(Json(info(&find_key(&st, &principal, &id).await?)?))
}

/// `POST /v1/keys/{id}/wrap`: seals bytes under the key inside the broker (the image
/// encryption path: the build host never holds the key).
pub(crate) async fn wrap(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WrapRequest>,
) -> Result<Json<WrappedBlob>, ServiceError> {
    if req.plaintext.0.len() > MAX_WRAP {
        return Err(ServiceError::BadRequest(format!(
            "at most {MAX_WRAP} bytes can be wrapped"
        )));
    }
    let row = find_key(&st, &principal, &id).await?;
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

#[derive(Deserialize)]
pub(crate) struct ReleaseQuery {
    key: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/keys/releases?key=&limit=`: the release log, newest first.
pub(crate) async fn releases(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Query(q): Query<ReleaseQuery>,
) -> Result<Json<Vec<ReleaseRecord>>, ServiceError> {
    let key_id = match &q.key {
        Some(k) => Some(find_key(&st, &principal, k).await?.key_id),
        None => None,
    };
    let rows = st
        .store
        .releases(key_id.as_deref(), q.limit.unwrap_or(100).min(10_000))
        .await?;
    let rows = only_visible(&st, &principal, ObjectKind::Key, rows, |r| &r.key_id).await?;
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

/// A key by id or name, if the caller's organisation owns it (else not found).
async fn find_key(st: &AppState, p: &Principal, id: &str) -> Result<KeyRow, ServiceError> {
    let id = key_ref(id)?;
    let not_found = || ServiceError::NotFound(format!("key {id}"));
    let row = st.store.key(id).await?.ok_or_else(not_found)?;
    if !visible(st, p, ObjectKind::Key, &row.key_id).await? {
        return Err(not_found());
    }
    Ok(row)
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
