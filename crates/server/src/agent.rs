//! Endpoints the trust agent calls: enrollment (EK/AK registration and the credential
//! challenge), then challenge and evidence for every attestation.

use crate::error::ApiJson;
use crate::error::ServiceError;
use crate::store::{ActivationRefused, EnrollmentRow, HostRow};
use crate::tls::{PeerAddr, PeerIdentity};
use crate::{now, AppState, EkCertPolicy};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ironroot_api::{
    ActivateRequest, ActivateResponse, Challenge, EnrollChallenge, EnrollRequest, EvidenceRequest,
    EvidenceResponse, PcrSelection, RenewRequest, B64,
};
use ironroot_crypto::{digest, HashAlg};
use ironroot_tpm_wire::{hierarchy_qualified_name, make_credential, qualified_name, TpmPublic};
use std::sync::Arc;

/// TPM_RH_ENDORSEMENT: the hierarchy our EKs (and the AKs under them) live in.
const TPM_RH_ENDORSEMENT: u32 = 0x4000_000B;

pub(crate) async fn enroll(
    State(st): State<Arc<AppState>>,
    Extension(addr): Extension<PeerAddr>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollChallenge>, ServiceError> {
    st.limits.enroll(addr.0.ip())?;
    let reject = |m: String| ServiceError::EnrollmentRejected(m);
    let hostname = ironroot_api::dns_hostname(&req.hostname)
        .map_err(|e| ServiceError::BadRequest(format!("hostname: {e}")))?;
    if req.hardware_uuid.len() > 64
        || !req
            .hardware_uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ServiceError::BadRequest(
            "hardware_uuid: at most 64 letters, digits and hyphens".into(),
        ));
    }
    // Limits that no second source address dodges: per EK, and for the whole service.
    st.limits
        .enroll_ek(&digest(HashAlg::Sha256, &req.ek_public.0))?;
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
    // Nothing about the host changes here: an enrollment is a challenge for exactly this
    // AK, and only a correct answer to it (in `activate`) touches the host.
    let known = st.store.host_by_ek(&req.ek_public.0).await?;
    if st.store.hostname_taken(&hostname, &req.ek_public.0).await? {
        return Err(ServiceError::Conflict(format!(
            "another host is enrolled as {hostname}: choose another name, or delete that host first"
        )));
    }
    let host_id = match &known {
        Some(h) => {
            tracing::warn!(
                host_id = %h.host_id,
                hostname = %h.hostname,
                requested_name = %hostname,
                source = %addr.0,
                ak_name = %hex::encode(&ak_name),
                "re-enrollment of a known EK requested; the host keeps its AK until the new one is proven"
            );
            h.host_id.clone()
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
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
            hostname,
            hardware_uuid: req.hardware_uuid,
            ek_public: req.ek_public.0,
            ek_certificate: req.ek_certificate.map(|c| c.0),
            ak_public: req.ak_public.0,
            ak_name,
            ak_qualified_name: ak_qn,
            secret_sha256: digest(HashAlg::Sha256, &secret),
            source: addr.0.to_string(),
            created_at: now,
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
    ApiJson(req): ApiJson<ActivateRequest>,
) -> Result<Json<ActivateResponse>, ServiceError> {
    st.limits.enroll(addr.0.ip())?;
    let rejected = |m: &str| ServiceError::EnrollmentRejected(m.into());
    let pending = st
        .store
        .enrollment(&id)
        .await?
        .ok_or_else(|| rejected("unknown or already answered enrollment"))?;
    // A right answer gets its certificate made first (the CSR is the caller's and may be
    // bad), but the certificate speaks for the host only once the activation below stores
    // its serial, in the transaction that consumes the enrollment and re-checks the
    // answer. A wrong answer, or a bad CSR, consumes the enrollment too.
    let answer = digest(HashAlg::Sha256, &req.secret.0);
    let cert = if ironroot_crypto::constant_time_eq(&answer, &pending.secret_sha256) {
        match st.pki.issue_client_cert(
            &req.csr_pem,
            &pending.host_id,
            st.config.client_cert_lifetime_secs,
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                st.store.discard_enrollment(&id).await?;
                return Err(ServiceError::BadRequest(e.to_string()));
            }
        }
    } else {
        None
    };
    let serial = cert.as_ref().map(|c| c.serial.as_str()).unwrap_or_default();
    let e = match st
        .store
        .activate_enrollment(&id, &answer, now(), serial)
        .await?
    {
        Ok(e) => e,
        Err(ActivationRefused::Unknown) => {
            return Err(rejected("unknown or already answered enrollment"))
        }
        Err(ActivationRefused::Expired) => {
            return Err(rejected("the credential challenge expired; enroll again"))
        }
        Err(ActivationRefused::WrongSecret { host_id }) => {
            tracing::warn!(%host_id, source = %addr.0, "credential activation failed: AK and EK are not in the same TPM");
            return Err(rejected(
                "the activated credential is wrong: the AK is not resident in the TPM that holds this EK",
            ));
        }
        Err(ActivationRefused::NameTaken { hostname }) => {
            return Err(ServiceError::Conflict(format!(
                "another host is enrolled as {hostname}: choose another name, or delete that host first"
            )))
        }
    };
    let Some(cert) = cert else {
        return Err(ServiceError::Internal(
            "an activation without its certificate".into(),
        ));
    };
    // A re-enrolled TPM starts from nothing: no cached logs or verdicts survive it.
    if let Ok(mut caches) = st.evidence_caches.lock() {
        caches.remove(&e.host_id);
    }
    tracing::info!(
        host_id = %e.host_id,
        hostname = %e.hostname,
        source = %addr.0,
        ak_name = %hex::encode(&e.ak_name),
        "host enrolled; AK proven resident beside the EK"
    );
    Ok(Json(ActivateResponse {
        host_id: e.host_id,
        client_certificate_pem: cert.pem,
        client_certificate_expires_at: cert.not_after,
        ca_certificate_pem: st.pki.ca_pem.clone(),
    }))
}

/// `POST /v1/agent/certificate`: a new client certificate for the host, asked for with
/// the current one. The old one is refused from then on.
pub(crate) async fn renew_certificate(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    ApiJson(req): ApiJson<RenewRequest>,
) -> Result<Json<ActivateResponse>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    let old = host.cert_serial.unwrap_or_default();
    st.limits.attest(&old)?;
    let cert = st
        .pki
        .issue_client_cert(
            &req.csr_pem,
            &host.host_id,
            st.config.client_cert_lifetime_secs,
        )
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    if !st
        .store
        .renew_cert_serial(&host.host_id, &old, &cert.serial)
        .await?
    {
        return Err(ServiceError::Unauthenticated);
    }
    tracing::info!(host_id = %host.host_id, not_after = cert.not_after, "client certificate renewed");
    Ok(Json(ActivateResponse {
        host_id: host.host_id,
        client_certificate_pem: cert.pem,
        client_certificate_expires_at: cert.not_after,
        ca_certificate_pem: st.pki.ca_pem.clone(),
    }))
}

/// Loads the enrolled, activated host behind an mTLS identity.
pub(crate) async fn enrolled_host(
    st: &AppState,
    peer: &PeerIdentity,
) -> Result<HostRow, ServiceError> {
    let id = peer.0.as_ref().ok_or(ServiceError::Unauthenticated)?;
    let host = st
        .store
        .host(&id.host_id)
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    if host.activated_at.is_none() {
        return Err(ServiceError::Forbidden(
            "this host has not completed enrollment".into(),
        ));
    }
    // Only the certificate of the latest activation (or renewal) speaks for the host:
    // one kept from before a re-enrollment is revoked.
    if host.cert_serial.as_deref() != Some(id.serial.as_str()) {
        tracing::warn!(host_id = %host.host_id, serial = %id.serial, "a revoked client certificate was presented");
        return Err(ServiceError::Unauthenticated);
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
    let id = peer.0.as_ref().ok_or(ServiceError::Unauthenticated)?;
    // The budget is per certificate: a key revoked by re-enrollment cannot drain the
    // budget of the certificate that replaced it.
    st.limits.attest(&id.serial)?;
    let host_id = id.host_id.as_str();
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
    ApiJson(req): ApiJson<EvidenceRequest>,
) -> Result<Json<EvidenceResponse>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    st.limits
        .attest(host.cert_serial.as_deref().unwrap_or_default())?;
    st.nonce_key
        .check(&host.host_id, &req.nonce.0, now())
        .map_err(|e| ServiceError::NonceInvalid(e.to_string()))?;
    let outcome = crate::attest::attest(&st, &host, &req).await?;
    // Accepted evidence (whatever its verdict) carries the node's kubelet facts. They are
    // not quoted and not part of the verdict, so failing to record them fails nothing.
    // Compared with the row already loaded: the steady state costs no query.
    let limit = req.kubelet.as_ref().and_then(|k| k.pod_pids_limit);
    if limit != host.kubelet_pod_pids_limit {
        match st
            .store
            .set_pod_pids_limit(&host.host_id, limit, now())
            .await
        {
            Ok(true) => st.events.poke(),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(host_id = %host.host_id, error = %e, "recording the kubelet's podPidsLimit failed")
            }
        }
    }
    Ok(Json(EvidenceResponse {
        trusted: outcome.trusted,
        report_id: outcome.report_id,
        report_jws: outcome.jws,
        next_attestation_in: outcome.next_attestation_in,
        asset_tag: host.tag_digest.clone(),
    }))
}
