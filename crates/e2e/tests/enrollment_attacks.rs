//! The attacks a security review of f01a2b5 made on enrollment, each against a real
//! service and a node with a real swtpm: the AK that was proven must be the AK that is
//! stored, an enrolled host cannot be reset or renamed without its TPM, and a client
//! certificate from before a re-enrollment is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{AgentError, ServiceClient, Session};
use ironroot_api::{
    EnrollChallenge, EnrollRequest, ErrorKind, EvidenceRequest, FlavorList, FlavorsFromHostRequest,
    HostSummary, B64,
};
use ironroot_crypto::JwkSet;
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_server::RateBudget;
use ironroot_testkit::{AkKind, QuoteClock, SoftwareAk};
use ironroot_tpm::EkKind;
use ironroot_tpm_wire::{
    hierarchy_qualified_name, qualified_name, Attest, Attested, TpmPublic, TPM_RH_ENDORSEMENT,
};
use ironroot_verifier::{FaultName, TrustReport};

const WIDE: RateBudget = RateBudget {
    burst: 10_000,
    per_second: 10_000,
};

async fn platform(
    node: &Node,
    dir: TempDir,
    tune: impl FnOnce(&mut ironroot_server::ServerConfig),
) -> Platform {
    Platform::start(dir, node.ca.clone(), |c| {
        c.enroll_ek_burst = 10_000;
        c.enroll_rate = WIDE;
        c.enroll_global_rate = WIDE;
        c.attest_rate = WIDE;
        tune(c);
    })
    .await
    .unwrap()
}

fn refusal<T: std::fmt::Debug, E: Into<AgentError>>(r: Result<T, E>) -> ErrorKind {
    let r: Result<T, AgentError> = r.map_err(Into::into);
    match r {
        Err(AgentError::Refused(e)) => e.kind,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Software keys with a TPM-looking public area (restricted, fixedTPM, sign), each
/// claiming in its quotes the qualified name it would have under the node's EK.
fn forgers(ek_public: &[u8], n: usize) -> Vec<SoftwareAk> {
    let ek = TpmPublic::parse(ek_public).unwrap();
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    (0..n)
        .map(|_| {
            let k = SoftwareAk::generate(AkKind::Rsa2048).unwrap();
            let qn = qualified_name(&ek_qn, &k.public().name(), k.public().name_alg());
            k.with_qualified_name(qn)
        })
        .collect()
}

async fn golden(p: &Platform, s: &Session) {
    let req = FlavorsFromHostRequest {
        host_id: s.host_id().unwrap().into(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
}

async fn faults(p: &Platform, jws: &str) -> Vec<FaultName> {
    let jwks: JwkSet = p.admin.get("/.well-known/jwks.json").await.unwrap();
    let report: TrustReport = serde_json::from_slice(&jwks.verify_compact(jws).unwrap()).unwrap();
    report.failed_faults().map(|(_, f)| f.name).collect()
}

/// The node's genuine evidence for a fresh challenge, with its quote replaced by one
/// the forger signed over the same nonce, PCRs, selection and a later clock.
async fn forged_evidence(s: &Session, forger: &SoftwareAk) -> EvidenceRequest {
    let ch = s.challenge().await.unwrap();
    let mut req = s.collect(&ch).await.unwrap();
    let genuine = Attest::parse(&req.attest.0).unwrap();
    let Attested::Quote { selection, .. } = &genuine.attested else {
        panic!("not a quote")
    };
    let ci = genuine.clock_info;
    let clock = QuoteClock {
        clock: ci.clock + 1_000,
        reset_count: ci.reset_count,
        restart_count: ci.restart_count,
    };
    let q = forger
        .quote(&genuine.extra_data, clock, &req.pcrs, selection)
        .unwrap();
    req.attest = B64(q.attest);
    req.signature = B64(q.signature);
    req
}

fn enroll_request(
    s: &Session,
    ek: &ironroot_tpm::EndorsementKey,
    ak_public: Vec<u8>,
) -> EnrollRequest {
    EnrollRequest {
        hostname: s.config().hostname.clone(),
        hardware_uuid: s.config().hardware_uuid.clone(),
        ek_public: B64(ek.public.clone()),
        ek_certificate: ek.certificate.clone().map(B64),
        ak_public: B64(ak_public),
    }
}

/// Critical: enrollments of one EK raced with software "AKs" beside the genuine one.
/// Whatever the interleaving, the host's AK is the one whose credential the TPM
/// activated, and a quote signed by any other key is refused, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ak_swap_race_during_enrollment_never_stores_an_unproven_ak() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("akswap").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = platform(&node, dir, |_| {}).await;
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let ek = s
        .with_tpm(|t| Ok(t.endorsement_key(EkKind::Rsa2048)?))
        .await
        .unwrap();
    let forgers = forgers(&ek.public, 6);
    s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    golden(&p, &s).await;
    assert!(s.attest_once().await.unwrap().trusted);
    for round in 0..8 {
        // The genuine agent enrolls again while forged enrollments of its EK land
        // before, during and after it.
        s.forget_identity();
        let anon = s.anonymous().clone();
        let forged: Vec<_> = forgers
            .iter()
            .map(|f| {
                let (c, r) = (
                    anon.clone(),
                    enroll_request(&s, &ek, f.tpm2b_public().unwrap()),
                );
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(3 * (round % 4))).await;
                    c.post::<_, EnrollChallenge>("/v1/enroll", &r).await
                })
            })
            .collect();
        s.ensure_enrolled().await.unwrap();
        let mut challenges = Vec::new();
        for t in forged {
            // The service cannot tell a software key from its public area: it challenges it.
            challenges.push(t.await.unwrap().unwrap());
        }
        // The TPM cannot answer a credential made for another key's name.
        for ch in challenges {
            let (id, secret) = (ch.id_object.0, ch.encrypted_secret.0);
            let answered = s
                .with_tpm(move |t| Ok(t.activate_credential(&id, &secret)?))
                .await;
            assert!(
                answered.is_err(),
                "round {round}: the TPM activated a forged credential"
            );
        }
        for f in &forgers {
            let forged = forged_evidence(&s, f).await;
            let r = s.submit(&forged).await.unwrap();
            assert!(
                !r.trusted,
                "round {round}: a quote by a software key was trusted"
            );
            assert!(
                faults(&p, &r.report_jws)
                    .await
                    .contains(&FaultName::QuoteInvalid),
                "round {round}: refused for another reason than the quote's signer"
            );
        }
        assert!(
            s.attest_once().await.unwrap().trusted,
            "round {round}: the genuine AK must stay the host's AK"
        );
    }
}

/// High 1: posting a known EK (public, and its public certificate) to /v1/enroll with
/// no credential used to clear the host's AK, name and activation. Now the host keeps
/// attesting, keeps its name, and the request is only a pending challenge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_enrollment_of_a_known_ek_cannot_reset_or_rename_the_host() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("reset").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = platform(&node, dir, |c| c.enroll_ek_burst = 3).await;
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    golden(&p, &s).await;
    assert!(s.attest_once().await.unwrap().trusted);
    let ek = s
        .with_tpm(|t| Ok(t.endorsement_key(EkKind::Rsa2048)?))
        .await
        .unwrap();
    let forger = &forgers(&ek.public, 1)[0];
    let mut reset = enroll_request(&s, &ek, forger.tpm2b_public().unwrap());
    reset.hostname = "evil".into();
    let mut limited = false;
    for _ in 0..10 {
        match s
            .anonymous()
            .post::<_, EnrollChallenge>("/v1/enroll", &reset)
            .await
        {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(refusal::<(), _>(Err(e)), ErrorKind::RateLimited);
                limited = true;
            }
        }
    }
    assert!(
        limited,
        "re-enrollments of one EK are rate-limited, whatever the address"
    );
    let h: HostSummary = p.admin.get(&format!("/v1/hosts/{host_id}")).await.unwrap();
    assert_eq!(h.hostname, "node-1", "the name is unchanged");
    let r = s.attest_once().await.unwrap();
    assert!(r.trusted, "the host still attests with its proven AK");
}

/// A client certificate kept from before a re-enrollment is revoked, and cannot drain
/// the rate budget of the certificate that replaced it; the agent renews its
/// certificate by itself and enrolls again when it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_from_before_re_enrollment_is_refused_and_drains_nothing() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("revoke").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = platform(&node, dir, |c| {
        c.attest_rate = RateBudget {
            burst: 5,
            per_second: 1,
        };
    })
    .await;
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    let old = stored_client(&p, &node);
    // The same node enrolls again (its agent lost its state): a new certificate.
    s.forget_identity();
    s.ensure_enrolled().await.unwrap();
    // The old certificate is refused where the database is read...
    assert_eq!(refusal(old.asset_tag().await), ErrorKind::Unauthenticated);
    // ...and hammering the challenge endpoint with it spends its own budget only.
    let mut limited = false;
    for _ in 0..20 {
        if let Err(e) = old.challenge().await {
            limited |= e.api().is_some_and(|e| e.kind == ErrorKind::RateLimited);
        }
    }
    assert!(limited, "the old certificate met its own limit");
    s.attest_once().await.unwrap();
    s.attest_once().await.unwrap();
}

/// A client for the identity the node's agent stored last.
fn stored_client(p: &Platform, node: &Node) -> ServiceClient {
    let dir = node.layout.root.join("agent");
    let id: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("identity.json")).unwrap()).unwrap();
    let key = std::fs::read_to_string(dir.join("client.key")).unwrap();
    let cert = id["client_certificate_pem"].as_str().unwrap();
    ServiceClient::agent(&p.url(), p.service.ca_pem.as_bytes(), Some((cert, &key))).unwrap()
}

/// Certificates expire: the agent renews at half-life (the old one is then refused), and
/// one that expired while the agent was stopped is replaced by enrolling again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_renews_its_certificate_and_recovers_from_expiry() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("renew").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = platform(&node, dir, |c| c.client_cert_lifetime_secs = 6).await;
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    let before = stored_client(&p, &node);
    s.renew_certificate_if_due().await.unwrap();
    assert_eq!(
        s.host_id(),
        Some(host_id.as_str()),
        "renewed, not re-enrolled"
    );
    s.attest_once().await.unwrap();
    assert_eq!(
        refusal(before.asset_tag().await),
        ErrorKind::Unauthenticated,
        "the certificate a renewal replaced is refused"
    );
    // Stopped past expiry: the next start enrolls again and attests.
    drop(s);
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    assert_eq!(s.ensure_enrolled().await.unwrap(), host_id);
    s.attest_once().await.unwrap();
}

/// A node cannot take the name of another host; the administrator frees it by
/// deleting that host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cannot_squat_another_hosts_name() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("squat").unwrap();
    let a = Node::boot(&dir.0, "node-a").await.unwrap();
    let b = Node::boot(&dir.0, "node-b").await.unwrap();
    let cas = a.ca.iter().chain(b.ca.iter()).cloned().collect();
    let p = Platform::start(dir, cas, |_| {}).await.unwrap();
    let mut sa = a.session(&p.url(), &p.service.ca_pem).unwrap();
    let id_a = sa.ensure_enrolled().await.unwrap();
    let mut cfg = b.agent_config(&p.url(), &p.service.ca_pem);
    cfg.hostname = "node-a".into();
    let mut squatter = Session::new(cfg, Box::new(b.open_tpm().unwrap())).unwrap();
    assert_eq!(
        refusal(squatter.ensure_enrolled().await),
        ErrorKind::Conflict
    );
    let _: serde_json::Value = p.admin.delete(&format!("/v1/hosts/{id_a}")).await.unwrap();
    squatter.ensure_enrolled().await.unwrap();
    let hosts = p.admin.hosts().await.unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].hostname, "node-a");
    assert_ne!(hosts[0].host_id, id_a);
    // Names that would forge log lines or table rows never reach the service's store.
    let mut cfg = b.agent_config(&p.url(), &p.service.ca_pem);
    cfg.hostname = "node-c\n2026-12-07T00:00:00Z INFO host enrolled".into();
    cfg.state_dir = cfg.state_dir.join("forged");
    drop(squatter);
    let mut forged = Session::new(cfg, Box::new(b.open_tpm().unwrap())).unwrap();
    assert_eq!(
        refusal(forged.ensure_enrolled().await),
        ErrorKind::BadRequest
    );
}
