//! Enrollment must prove the AK is in the TPM that holds the EK, and refuse everything else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::AgentError;
use ironroot_api::{
    ActivateRequest, ActivateResponse, EnrollChallenge, EnrollRequest, ErrorKind, B64,
};
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_tpm::EkKind;

/// The service's refusal, through the agent's session or straight from its client.
fn kind<T: std::fmt::Debug, E: Into<AgentError>>(r: Result<T, E>) -> ErrorKind {
    let r: Result<T, AgentError> = r.map_err(Into::into);
    match r {
        Err(AgentError::Refused(e)) => e.kind,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credential_untrusted_ek_ca_and_non_restricted_ak_are_refused() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("enroll").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let stranger = Node::boot(&dir.0, "stranger").await.unwrap();
    // The service trusts node-1's EK CA only.
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let (ek, ak) = s
        .with_tpm(|t| Ok((t.endorsement_key(EkKind::Rsa2048)?, t.attestation_key()?)))
        .await
        .unwrap();
    let req = |ak_public: Vec<u8>| EnrollRequest {
        hostname: "node-1".into(),
        hardware_uuid: "u".into(),
        ek_public: B64(ek.public.clone()),
        ek_certificate: ek.certificate.clone().map(B64),
        ak_public: B64(ak_public),
    };
    // An answer that is not the activated credential: the enrollment is consumed.
    let ch: EnrollChallenge = s
        .anonymous()
        .post("/v1/enroll", &req(ak.public.clone()))
        .await
        .unwrap();
    let wrong = ActivateRequest {
        secret: B64(vec![0; 32]),
        csr_pem: "x".into(),
    };
    let path = format!("/v1/enroll/{}/activate", ch.enrollment_id);
    assert_eq!(
        kind(
            s.anonymous()
                .post::<_, ActivateResponse>(&path, &wrong)
                .await
        ),
        ErrorKind::EnrollmentRejected
    );
    assert_eq!(
        kind(
            s.anonymous()
                .post::<_, ActivateResponse>(&path, &wrong)
                .await
        ),
        ErrorKind::EnrollmentRejected
    );
    // The host never activated, so it cannot attest and is not listed.
    assert!(p.admin.hosts().await.unwrap().is_empty());
    // The EK itself presented as the AK: not a restricted signing key.
    let r = s
        .anonymous()
        .post::<_, EnrollChallenge>("/v1/enroll", &req(ek.public.clone()))
        .await;
    assert_eq!(kind(r), ErrorKind::EnrollmentRejected);
    // An EK certificate from a CA the service does not trust.
    let t = stranger.session(&p.url(), &p.service.ca_pem).unwrap();
    let (sek, sak) = t
        .with_tpm(|t| Ok((t.endorsement_key(EkKind::Rsa2048)?, t.attestation_key()?)))
        .await
        .unwrap();
    let foreign = EnrollRequest {
        hostname: "stranger".into(),
        hardware_uuid: "s".into(),
        ek_public: B64(sek.public.clone()),
        ek_certificate: sek.certificate.map(B64),
        ak_public: B64(sak.public),
    };
    assert_eq!(
        kind(
            s.anonymous()
                .post::<_, EnrollChallenge>("/v1/enroll", &foreign)
                .await
        ),
        ErrorKind::EnrollmentRejected
    );
    // node-1's certificate presented with the stranger's EK: the certificate is for another key.
    let swapped = EnrollRequest {
        ek_certificate: ek.certificate.clone().map(B64),
        ..foreign
    };
    assert_eq!(
        kind(
            s.anonymous()
                .post::<_, EnrollChallenge>("/v1/enroll", &swapped)
                .await
        ),
        ErrorKind::EnrollmentRejected
    );
    // Garbage bodies get clear errors and the service keeps serving.
    let raw: Result<EnrollChallenge, _> = s
        .anonymous()
        .post("/v1/enroll", &serde_json::json!({"hostname": 5}))
        .await;
    assert!(raw.is_err());
    // And the honest path still works.
    let mut s = s;
    s.ensure_enrolled().await.unwrap();
    assert!(s.attest_once().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_restart_service_restart_and_reboot_need_no_manual_step() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("restart").unwrap();
    let mut node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    let req = ironroot_api::FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "g".into(),
        parts: vec![],
        flavor_group: None,
    };
    s.attest_once().await.unwrap();
    let _: ironroot_api::FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    // Agent restart: a new session loads the stored identity, no new enrollment.
    drop(s);
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    assert_eq!(s.ensure_enrolled().await.unwrap(), host_id);
    assert!(s.attest_once().await.unwrap().trusted);
    drop(s);
    // Service restart on the same database (new port): hosts, flavors and keys survive.
    let Platform {
        service,
        config,
        dir,
        ..
    } = p;
    drop(service);
    let p = Platform::start(dir, config.ek_ca_files.clone(), |c| {
        c.data_dir = config.data_dir.clone()
    })
    .await
    .unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    assert_eq!(s.ensure_enrolled().await.unwrap(), host_id);
    let r = s.attest_once().await.unwrap();
    assert!(r.trusted);
    // Reboot: the TPM resets (resetCount changes), the node boots the same chain again.
    drop(s);
    node.swtpm.power_cycle().unwrap();
    node.boot_tpm()
        .await
        .unwrap_or_else(|_| panic!("boot after power cycle"));
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    let r = s.attest_once().await.unwrap();
    assert!(r.trusted, "same boot chain after reboot is trusted");
}
