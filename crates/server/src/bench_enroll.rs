//! Benchmark-only enrollment: registers and activates a host from its AK public area
//! alone, with no EK, no EK certificate and no credential challenge, and issues its mTLS
//! client certificate. It lets a load generator play thousands of nodes whose AKs are
//! software keys (`ironroot-testkit`), so that everything after enrollment (TLS, the
//! wire, quote and log verification, flavors, storage) is measured on the product's path.
//!
//! It proves nothing about a TPM, so it must never be reachable in a deployment: it is
//! compiled only with the `bench-enrollment` feature, and even then every request is
//! refused (403) unless the service's configuration sets `allow_bench_enrollment`, which
//! defaults to false. Hosts enrolled here are marked: their stored EK is `bench:` followed
//! by the AK's TPM2B_PUBLIC, which no TPM2B_PUBLIC can equal, and their hardware UUID is
//! `bench-enrollment`.

use crate::error::ServiceError;
use crate::store::HostRow;
use crate::{now, AppState, ServerConfig};
use axum::extract::State;
use axum::Json;
use ironroot_api::{ActivateResponse, B64};
use ironroot_tpm_wire::{hierarchy_qualified_name, qualified_name, TpmPublic, TPM_RH_ENDORSEMENT};
use serde::Deserialize;
use std::sync::Arc;

/// Whether verdicts are written without their audit entries: the baseline of the audit
/// trail's cost (`ServerConfig::bench_without_trust_audit`). Process-wide, as a benchmark
/// runs one service per process.
static WITHOUT_TRUST_AUDIT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

pub(crate) fn without_trust_audit() -> bool {
    WITHOUT_TRUST_AUDIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prefix of the stored "EK" of a benchmark host (see the module docs).
const EK_MARKER: &[u8] = b"bench:";
const HARDWARE_UUID: &str = "bench-enrollment";

/// `POST /v1/bench/enroll`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BenchEnrollRequest {
    pub hostname: String,
    /// TPM2B_PUBLIC of the (software) attestation key.
    pub ak_public: B64,
    /// PEM PKCS#10 request for the node's client certificate.
    pub csr_pem: String,
}

fn check_allowed(config: &ServerConfig) -> Result<(), ServiceError> {
    if config.allow_bench_enrollment {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "benchmark enrollment is disabled: this service enrolls only TPMs that pass the credential challenge (POST /v1/enroll)".into(),
        ))
    }
}

/// The stored EK of a benchmark host: never a valid TPM2B_PUBLIC, so never a real EK.
fn bench_ek_marker(ak_public: &[u8]) -> Vec<u8> {
    [EK_MARKER, ak_public].concat()
}

/// The AK checks of real enrollment, and the qualified name the software AK's quotes
/// carry: the AK's Name under the endorsement hierarchy, with no EK in between
/// (`ironroot_testkit::bench_qualified_name`).
fn parse_ak(ak_public: &[u8]) -> Result<(TpmPublic, Vec<u8>), ServiceError> {
    let reject = |m: String| ServiceError::EnrollmentRejected(m);
    let ak = TpmPublic::parse(ak_public).map_err(|e| reject(format!("AK public area: {e}")))?;
    if !ak.is_restricted_signing_key() {
        return Err(reject(
            "the AK is not a restricted, fixedTPM, TPM-generated signing key".into(),
        ));
    }
    let qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ak.name(),
        ak.name_alg(),
    );
    Ok((ak, qn))
}

pub(crate) async fn enroll(
    State(st): State<Arc<AppState>>,
    crate::error::ApiJson(req): crate::error::ApiJson<BenchEnrollRequest>,
) -> Result<Json<ActivateResponse>, ServiceError> {
    check_allowed(&st.config)?;
    // No per-address enrollment limit: one load generator enrolls thousands of nodes
    // from one address, and this path exists only where the operator allowed it.
    let hostname = ironroot_api::dns_hostname(&req.hostname)
        .map_err(|e| ServiceError::BadRequest(format!("hostname: {e}")))?;
    let (ak, ak_qualified_name) = parse_ak(&req.ak_public.0)?;
    let ek_public = bench_ek_marker(&req.ak_public.0);
    let host_id = match st.store.host_by_ek(&ek_public).await? {
        Some(h) => h.host_id,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let now = now();
    let cert = st
        .pki
        .issue_client_cert(&req.csr_pem, &host_id, st.config.client_cert_lifetime_secs)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let row = HostRow {
        host_id: host_id.clone(),
        hostname,
        hardware_uuid: HARDWARE_UUID.into(),
        ek_public,
        ek_certificate: None,
        ak_public: req.ak_public.0,
        ak_name: ak.name(),
        ak_qualified_name,
        enrolled_at: now,
        activated_at: Some(now),
        flavor_group: "automatic".into(),
        reset_count: None,
        restart_count: None,
        clock: None,
        trust_state: ironroot_api::TrustState::INITIAL,
        tag_digest: None,
        tag_json: None,
        cert_serial: Some(cert.serial),
        k8s_node: None,
        kubelet_pod_pids_limit: None,
    };
    st.store.put_host(&row).await?;
    if let Ok(mut caches) = st.evidence_caches.lock() {
        caches.remove(&host_id);
    }
    tracing::debug!(%host_id, "benchmark host enrolled without a TPM (bench-enrollment)");
    Ok(Json(ActivateResponse {
        host_id,
        client_certificate_pem: cert.pem,
        client_certificate_expires_at: cert.not_after,
        ca_certificate_pem: st.pki.ca_pem.clone(),
    }))
}

/// Says loudly, once at start, that this service accepts hosts without a TPM.
pub(crate) fn warn_if_allowed(config: &ServerConfig) {
    if config.allow_bench_enrollment {
        tracing::warn!(
            "benchmark enrollment is ENABLED: POST /v1/bench/enroll registers hosts without a TPM; never use this service for real trust decisions"
        );
    }
    WITHOUT_TRUST_AUDIT.store(
        config.bench_without_trust_audit,
        std::sync::atomic::Ordering::Relaxed,
    );
    if config.bench_without_trust_audit {
        tracing::warn!("trust decisions are NOT written to the audit trail (benchmark baseline)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_unless_the_configuration_allows_it() {
        let mut cfg = ServerConfig::new("/nonexistent".into());
        assert!(!cfg.allow_bench_enrollment, "the default must refuse");
        let err = check_allowed(&cfg).unwrap_err();
        assert!(
            matches!(err, ServiceError::Forbidden(ref m) if m.contains("benchmark enrollment is disabled"))
        );
        cfg.allow_bench_enrollment = true;
        assert!(check_allowed(&cfg).is_ok());
    }

    #[test]
    fn the_ek_marker_is_never_a_tpm2b_public() {
        let marker = bench_ek_marker(&[0, 4, 1, 2, 3, 4]);
        assert!(marker.starts_with(b"bench:"));
        assert!(TpmPublic::parse(&marker).is_err());
    }

    #[test]
    fn an_ak_that_is_not_a_restricted_signing_key_is_rejected() {
        assert!(matches!(
            parse_ak(b"not a key"),
            Err(ServiceError::EnrollmentRejected(_))
        ));
    }
}
