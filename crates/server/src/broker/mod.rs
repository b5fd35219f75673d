//! The key broker (brief R6): AES-256 keys with transfer policies, sealed at rest under a
//! master key, released only to a node that proves its state by a fresh attestation in
//! the same request and presents a TPM-resident binding key certified by its AK. The key
//! is wrapped to that binding key (RSA-OAEP-SHA256, label "TPM2\0", as SecL-DC does), so
//! only that TPM can open it. Every release and refusal is recorded.

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
use ironroot_crypto::{HashAlg, RsaPublicKey};
use ironroot_tpm_wire::{verify_certify, PublicParams, TpmPublic, Unique};
use serde::Deserialize;
use std::sync::Arc;

/// Largest plaintext `wrap` seals (an image layer's private options are ~150 bytes).
const MAX_WRAP: usize = 64 * 1024;

/// `POST /v1/keys`: creates a random AES-256 key, or imports 32 given bytes.
pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Json<KeyInfo>, ServiceError> {
    require_admin(&st, &headers)?;
    check_name(&req.name)?;
    // The same rules as the tags a host can carry: a policy no tag can satisfy is refused.
    if !req.policy.asset_tags.is_empty() {
        crate::tags::check_tags(&req.policy.asset_tags)?;
    }
    let created_at = now();
    if req.policy.expires_at.is_some_and(|at| at <= created_at) {
        return Err(ServiceError::BadRequest(
            "the policy's expires_at is in the past".into(),
        ));
    }
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

/// `POST /v1/keys/{id}/release` (node, mutual TLS): see the module comment.
pub(crate) async fn release(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReleaseRequest>,
) -> Result<Json<ReleaseResponse>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    st.limits.attest(host.cert_serial.as_deref().unwrap_or_default())?;
    let row = match st.store.key(&id).await? {
        Some(row) => row,
        None => {
            // Asking for a key that is not there is a refusal too, and is recorded.
            let reason = format!("key {id} does not exist");
            st.store
                .record_release(&ReleaseRow {
                    seq: 0,
                    key_id: id.chars().take(128).collect(),
                    host_id: Some(host.host_id.clone()),
                    hostname: Some(host.hostname.clone()),
                    at: now(),
                    released: false,
                    reason: reason.clone(),
                    report_id: None,
                    evidence_json: serde_json::json!({ "key": id }).to_string(),
                })
                .await?;
            tracing::warn!(key = %id, host = %host.hostname, "release of an unknown key refused");
            return Err(ServiceError::NotFound(format!("key {id}")));
        }
    };
    let mut evidence = serde_json::json!({ "key": row.name });
    let decision = decide(&st, &host, &row, &req, &mut evidence).await;
    let (released, reason, report_id) = match &decision {
        Ok(r) => (true, "released".to_string(), Some(r.report_id.clone())),
        Err(e) => (
            false,
            e.to_string(),
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
    let binding = binding_key(host, req, nonce)?;
    evidence["binding_key_name"] = hex::encode(binding.name()).into();
    // The fresh attestation: the same path as any other, recorded as the host's verdict.
    let outcome = crate::attest::attest(st, host, &req.evidence).await?;
    evidence["report_id"] = outcome.report_id.clone().into();
    evidence["trusted"] = outcome.report.trusted.into();
    evidence["group"] = outcome.report.group.clone().into();
    evidence["asset_tags"] = serde_json::to_value(&outcome.report.asset_tags).unwrap_or_default();
    policy::check(&policy, &outcome.report, now()).map_err(|r| {
        ServiceError::Forbidden(format!(
            "key {} was not released to {}: {r}",
            row.name, host.hostname
        ))
    })?;
    let (PublicParams::Rsa { exponent, .. }, Unique::Rsa { modulus }) =
        (binding.params(), binding.unique())
    else {
        return Err(ServiceError::Internal("binding key checked as RSA".into()));
    };
    let material = st
        .master
        .open(&row.key_id, &row.sealed)
        .map_err(ServiceError::Internal)?;
    let wrapped = RsaPublicKey::from_tpm(modulus, *exponent)
        .encrypt_oaep(HashAlg::Sha256, b"TPM2\0", &material)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ReleaseResponse {
        key_id: row.key_id.clone(),
        wrapped_key: B64(wrapped),
        report_id: outcome.report_id,
        report_jws: outcome.jws,
    })
}

/// The binding key must be an RSA-2048 decryption key that cannot leave its TPM, and the
/// host's AK must have certified it over this request's nonce.
fn binding_key(
    host: &HostRow,
    req: &ReleaseRequest,
    nonce: &[u8],
) -> Result<TpmPublic, ServiceError> {
    let refuse = |why: &str| ServiceError::Forbidden(format!("binding key refused: {why}"));
    let key = TpmPublic::parse(&req.binding_key.public.0)
        .map_err(|e| refuse(&format!("not a TPM2B_PUBLIC ({e})")))?;
    let a = key.attributes();
    let rsa2048 = matches!(key.params(), PublicParams::Rsa { key_bits: 2048, .. });
    if !(rsa2048
        && a.decrypt()
        && !a.sign()
        && !a.restricted()
        && a.fixed_tpm()
        && a.fixed_parent())
    {
        return Err(refuse(
            "it must be an RSA-2048 decrypt-only key with fixedTPM and fixedParent",
        ));
    }
    let ak = TpmPublic::parse(&host.ak_public)
        .map_err(|e| ServiceError::Internal(format!("stored AK: {e}")))?;
    verify_certify(
        &ak,
        &req.binding_key.certify_attest.0,
        &req.binding_key.certify_signature.0,
        nonce,
        &key,
    )
    .map_err(|e| {
        refuse(&format!(
            "it is not certified by this node's attestation key over this challenge ({e})"
        ))
    })?;
    Ok(key)
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

fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::BadRequest(format!(
            "a key name is 1 to 128 letters, digits, '-', '_', '.' or '/', not {name:?}"
        )))
    }
}
