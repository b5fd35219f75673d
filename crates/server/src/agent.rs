//! Endpoints the trust agent calls: enrollment (EK/AK registration and the credential
//! challenge), then challenge and evidence for every attestation.

use crate::error::ServiceError;
use crate::store::{EnrollmentRow, HostRow};
use crate::tls::{PeerAddr, PeerIdentity};
use crate::{now, AppState, EkCertPolicy};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ironroot_api::{
    ActivateRequest, ActivateResponse, Challenge, EnrollChallenge, EnrollRequest, EvidenceRequest,
    EvidenceResponse, PcrSelection, B64,
};
use ironroot_crypto::{digest, HashAlg};
use ironroot_tpm_wire::{hierarchy_qualified_name, make_credential, qualified_name, TpmPublic};
use std::sync::Arc;

/// TPM_RH_ENDORSEMENT: the hierarchy our EKs (and the AKs under them) live in.
const TPM_RH_ENDORSEMENT: u32 = 0x4000_000B;
const MAX_HOSTNAME: usize = 253;

pub(crate) async fn enroll(
    State(st): State<Arc<AppState>>,
    Extension(addr): Extension<PeerAddr>,
    Json(req): Json<EnrollRequest>,
) -> Result<Json<EnrollChallenge>, ServiceError> {
    st.limits.enroll(addr.0.ip())?;
    let reject = |m: String| ServiceError::EnrollmentRejected(m);
    if req.hostname.is_empty() || req.hostname.len() > MAX_HOSTNAME || req.hardware_uuid.len() > 64
    {
        return Err(ServiceError::BadRequest(
            "hostname or hardware_uuid missing or too long".into(),
        ));
    }
    let ek =
        TpmPublic::parse(&req.ek_public.0).map_err(|e| reject(format!("EK public area: {e}")))?;
    let ak =
        TpmPublic::parse(&req.ak_public.0).map_err(|e| reject(format!("AK public area: {e}")))?;
    if !ek.is_restricted_decryption_key() {
        return Err(reject("the EK is not a restricted decryption key".into()));
    }
    if !ak.is_restricted_signing_key() {
        return Err(reject(
            "the AK is not a restricted, fixedTPM, TPM-generated signing key, so its quotes would prove nothing".into(),
        ));
    }
    let now = now();
    match (&req.ek_certificate, st.config.ek_cert_policy) {
        (Some(cert), _) => st
            .ek_roots
            .verify(&cert.0, &ek, i64::try_from(now).unwrap_or(i64::MAX))
            .map_err(|e| reject(format!("EK certificate: {e}")))?,
        (None, EkCertPolicy::Required) => {
            return Err(reject(
                "this service requires an EK certificate and the TPM presented none".into(),
            ))
        }
        (None, EkCertPolicy::IfPresent) => {}
    }
    let ak_name = ak.name();
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    let ak_qn = qualified_name(&ek_qn, &ak_name, ak.name_alg());
    // One host per EK: the same TPM enrolling again keeps its host id.
    let host_id = match st.store.host_by_ek(&req.ek_public.0).await? {
        Some(h) => h.host_id,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let row = HostRow {
        host_id: host_id.clone(),
        hostname: req.hostname,
        hardware_uuid: req.hardware_uuid,
        ek_public: req.ek_public.0,
        ek_certificate: req.ek_certificate.map(|c| c.0),
        ak_public: req.ak_public.0,
        ak_name: ak_name.clone(),
        ak_qualified_name: ak_qn,
        enrolled_at: now,
        activated_at: None,
        flavor_group: "automatic".into(),
        reset_count: None,
        restart_count: None,
        clock: None,
        trust_state: "unknown".into(),
        tag_digest: None,
        tag_json: None,
    };
    st.store.upsert_pending_host(&row).await?;
    // A re-enrolled TPM starts from nothing: no cached logs or verdicts survive it.
    if let Ok(mut caches) = st.evidence_caches.lock() {
        caches.remove(&host_id);
    }
    let secret = zeroize::Zeroizing::new(
        ironroot_crypto::random_bytes(32).map_err(|e| ServiceError::Internal(e.to_string()))?,
    );
    let made = make_credential(&ek, &ak_name, &secret)
        .map_err(|e| reject(format!("cannot challenge this EK: {e}")))?;
    let enrollment_id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + st.config.enrollment_lifetime_secs;
    st.store
        .insert_enrollment(&EnrollmentRow {
            enrollment_id: enrollment_id.clone(),
            host_id,
            secret_sha256: digest(HashAlg::Sha256, &secret),
            expires_at,
        })
        .await?;
    Ok(Json(EnrollChallenge {
        enrollment_id,
        id_object: B64(made.id_object),
        encrypted_secret: B64(made.encrypted_secret),
        expires_at,
    }))
}

pub(crate) async fn activate(
    State(st): State<Arc<AppState>>,
    Extension(addr): Extension<PeerAddr>,
    Path(id): Path<String>,
    Json(req): Json<ActivateRequest>,
) -> Result<Json<ActivateResponse>, ServiceError> {
    st.limits.enroll(addr.0.ip())?;
    // Taking the enrollment consumes it: a wrong answer cannot be retried.
    let e = st.store.take_enrollment(&id).await?.ok_or_else(|| {
        ServiceError::EnrollmentRejected("unknown or already answered enrollment".into())
    })?;
    if e.expires_at <= now() {
        return Err(ServiceError::EnrollmentRejected(
            "the credential challenge expired; enroll again".into(),
        ));
    }
    if !ironroot_crypto::constant_time_eq(&digest(HashAlg::Sha256, &req.secret.0), &e.secret_sha256)
    {
        tracing::warn!(host_id = %e.host_id, "credential activation failed: AK and EK are not in the same TPM");
        return Err(ServiceError::EnrollmentRejected(
            "the activated credential is wrong: the AK is not resident in the TPM that holds this EK".into(),
        ));
    }
    let cert = st
        .pki
        .issue_client_cert(&req.csr_pem, &e.host_id)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    st.store.activate_host(&e.host_id, now()).await?;
    tracing::info!(host_id = %e.host_id, "host enrolled; AK proven resident beside the EK");
    Ok(Json(ActivateResponse {
        host_id: e.host_id,
        client_certificate_pem: cert,
        ca_certificate_pem: st.pki.ca_pem.clone(),
    }))
}

/// Loads the enrolled, activated host behind an mTLS identity.
pub(crate) async fn enrolled_host(
    st: &AppState,
    peer: &PeerIdentity,
) -> Result<HostRow, ServiceError> {
    let id = peer.0.as_deref().ok_or(ServiceError::Unauthenticated)?;
    let host = st
        .store
        .host(id)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    if host.activated_at.is_none() {
        return Err(ServiceError::Forbidden(
            "this host has not completed enrollment".into(),
        ));
    }
    Ok(host)
}

/// PCRs every quote covers: the boot chain (0-9) and IMA (10), in every bank we verify.
fn default_selection() -> Vec<PcrSelection> {
    // Every bank the service verifies, strongest first. The agent quotes those its TPM
    // has allocated; SHA-256 is required (see `attest`), the others are checked when present.
    [HashAlg::Sha384, HashAlg::Sha256, HashAlg::Sha1]
        .into_iter()
        .map(|bank| PcrSelection {
            bank,
            pcrs: (0..=10).collect(),
        })
        .collect()
}

pub(crate) async fn challenge(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Json<Challenge>, ServiceError> {
    // No database read: the client certificate names an enrolled host, and the nonce is
    // bound to that name; the evidence request checks the host against the database.
    let host_id = peer.0.as_deref().ok_or(ServiceError::Unauthenticated)?;
    st.limits.attest(host_id)?;
    let expires_at = now() + st.config.nonce_lifetime_secs;
    let nonce = st
        .nonce_key
        .issue(host_id, expires_at)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Json(Challenge {
        nonce: B64(nonce),
        expires_at,
        selection: default_selection(),
    }))
}

pub(crate) async fn evidence(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Json(req): Json<EvidenceRequest>,
) -> Result<Json<EvidenceResponse>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    st.limits.attest(&host.host_id)?;
    st.nonce_key
        .check(&host.host_id, &req.nonce.0, now())
        .map_err(|e| ServiceError::NonceInvalid(e.to_string()))?;
    let outcome = crate::attest::attest(&st, &host, &req).await?;
    Ok(Json(EvidenceResponse {
        trusted: outcome.trusted,
        report_id: outcome.report_id,
        report_jws: outcome.jws,
        next_attestation_in: outcome.next_attestation_in,
        asset_tag: host.tag_digest.clone(),
    }))
}
