//! End to end: enrollment, flavors from a golden host, trust, tampering and every kind
//! of bad evidence the service must turn into a clear error or a named fault.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{AgentError, Session};
use ironroot_api::{
    ErrorKind, EvidenceResponse, FlavorList, FlavorsFromHostRequest, HostSummary, TrustState, B64,
};
use ironroot_crypto::JwkSet;
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_verifier::{FaultName, TrustReport};

async fn report(p: &Platform, r: &EvidenceResponse) -> TrustReport {
    let jwks: JwkSet = p.admin.get("/.well-known/jwks.json").await.unwrap();
    let payload = jwks
        .verify_compact(&r.report_jws)
        .expect("report signature verifies against the JWKS");
    serde_json::from_slice(&payload).unwrap()
}

fn fault_names(r: &TrustReport) -> Vec<FaultName> {
    r.failed_faults().map(|(_, f)| f.name).collect()
}

async fn setup(names: &[&str]) -> (Platform, Vec<Node>, Vec<Session>) {
    let dir = TempDir::new("e2e").unwrap();
    let mut nodes = Vec::new();
    for n in names {
        nodes.push(Node::boot(&dir.0, n).await.unwrap());
    }
    let cas = nodes.iter().flat_map(|n| n.ca.clone()).collect();
    // These tests attest many times a second on purpose; rate limits have their own test.
    let p = Platform::start(dir, cas, |c| {
        c.attest_rate = ironroot_server::RateBudget {
            burst: 1000,
            per_second: 1000,
        };
    })
    .await
    .unwrap();
    let mut sessions = Vec::new();
    for n in &nodes {
        let mut s = n.session(&p.url(), &p.service.ca_pem).unwrap();
        s.ensure_enrolled().await.unwrap();
        sessions.push(s);
    }
    (p, nodes, sessions)
}

async fn golden(p: &Platform, host: &str) {
    let req = FlavorsFromHostRequest {
        host_id: host.into(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    let created: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    assert_eq!(
        created.flavors.len(),
        3,
        "PLATFORM, OS and SOFTWARE flavors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_host_makes_fleet_trusted_and_a_replaced_runtime_is_caught() {
    if !peers_available() {
        return;
    }
    let (p, mut nodes, sessions) = setup(&["node-1", "node-2"]).await;
    // Without flavors nobody is trusted: a required part is missing (fail closed).
    let first = sessions[0].attest_once().await.unwrap();
    assert!(!first.trusted);
    assert!(fault_names(&report(&p, &first).await).contains(&FaultName::RequiredFlavorTypeMissing));
    golden(&p, "node-1").await;
    for s in &sessions {
        let r = s.attest_once().await.unwrap();
        assert!(r.trusted, "{:?}", fault_names(&report(&p, &r).await));
    }
    // Every bank the TPM has is quoted and verified (swtpm: SHA-1 and SHA-256).
    let r = sessions[1].attest_once().await.unwrap();
    let banks: Vec<_> = report(&p, &r).await.quoted_pcrs.banks().collect();
    assert_eq!(
        banks,
        vec![
            ironroot_crypto::HashAlg::Sha1,
            ironroot_crypto::HashAlg::Sha256
        ]
    );
    // Flavors export and import: a deleted flavor comes back from its export; an id that
    // exists already is a conflict.
    let exported: FlavorList = p.admin.get("/v1/flavors").await.unwrap();
    let software: Vec<serde_json::Value> = exported
        .flavors
        .iter()
        .filter(|f| f["meta"]["part"] == "SOFTWARE")
        .cloned()
        .collect();
    let id = software[0]["id"].as_str().unwrap().to_owned();
    let _: serde_json::Value = p.admin.delete(&format!("/v1/flavors/{id}")).await.unwrap();
    let again = FlavorList { flavors: software };
    let back: FlavorList = p.admin.post("/v1/flavors", &again).await.unwrap();
    assert_eq!(back.flavors.len(), 1);
    let dup = p
        .admin
        .post::<_, FlavorList>("/v1/flavors", &again)
        .await
        .unwrap_err();
    assert!(format!("{dup:#}").contains("Conflict"), "{dup:#}");
    nodes[1]
        .tamper_runtime(&sessions[1], "/usr/sbin/runc")
        .await
        .unwrap();
    let r = sessions[1].attest_once().await.unwrap();
    let rep = report(&p, &r).await;
    assert!(!r.trusted);
    let (_, fault) = rep
        .failed_faults()
        .find(|(_, f)| f.name == FaultName::ImaFileDigestMismatch)
        .expect("IMA fault");
    assert_eq!(fault.path.as_deref(), Some("/usr/sbin/runc"));
    assert!(fault.expected.is_some() && fault.actual.is_some() && fault.expected != fault.actual);
    // The other node is unaffected, and the host list says who is trusted and why not.
    assert!(sessions[0].attest_once().await.unwrap().trusted);
    let hosts: Vec<HostSummary> = p.admin.hosts().await.unwrap();
    let h2 = hosts.iter().find(|h| h.hostname == "node-2").unwrap();
    assert_eq!(h2.trust, TrustState::Untrusted);
    assert!(
        h2.failures.iter().any(|f| f.contains("/usr/sbin/runc")),
        "{:?}",
        h2.failures
    );
    // Report history is kept and queryable per host.
    let history: Vec<ironroot_api::ReportRecord> = p
        .admin
        .get("/v1/hosts/node-2/reports?limit=10")
        .await
        .unwrap();
    assert!(
        history.len() >= 2 && !history[0].trusted && history[1].trusted,
        "newest first"
    );
}

fn refused(r: Result<EvidenceResponse, AgentError>) -> ErrorKind {
    match r {
        Err(AgentError::Refused(e)) => e.kind,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_evidence_becomes_a_named_fault_and_loses_nothing() {
    if !peers_available() {
        return;
    }
    let (p, _nodes, sessions) = setup(&["node-1", "node-2"]).await;
    sessions[0].attest_once().await.unwrap();
    golden(&p, "node-1").await;
    let s = &sessions[0];
    type Mutation = fn(&mut ironroot_api::EvidenceRequest);
    let cases: Vec<(&str, Mutation, FaultName)> = vec![
        (
            "signature byte flipped",
            |r| r.signature.0[20] ^= 1,
            FaultName::QuoteInvalid,
        ),
        (
            "attest byte flipped",
            |r| {
                let n = r.attest.0.len();
                r.attest.0[n - 3] ^= 1
            },
            FaultName::QuoteInvalid,
        ),
        (
            "PCR value changed",
            |r| {
                let bank = r.pcrs.0.values_mut().next().unwrap();
                bank.values_mut().next().unwrap().0[0] ^= 1;
            },
            FaultName::QuoteInvalid,
        ),
        (
            "event log digest changed",
            |r| {
                let log = r.event_log.as_mut().unwrap();
                let n = log.0.len();
                // The last event: ... sha256 digest (32) | data size (4) | data (40 bytes).
                log.0[n - 50] ^= 1;
            },
            FaultName::EvidenceMalformed,
        ),
        (
            "event log truncated",
            |r| {
                let l = r.event_log.as_mut().unwrap();
                l.0.truncate(l.0.len() - 7)
            },
            FaultName::EvidenceMalformed,
        ),
        (
            "unknown event type",
            |r| {
                // The first crypto-agile event follows the Spec ID event; its type is at offset header+4.
                let l = r.event_log.as_mut().unwrap();
                let header_len = 32 + u32::from_le_bytes(l.0[28..32].try_into().unwrap()) as usize;
                l.0[header_len + 4..header_len + 8].copy_from_slice(&0x7777_7777u32.to_le_bytes());
            },
            FaultName::EvidenceMalformed,
        ),
        (
            "IMA list garbage",
            |r| r.ima_log = Some(B64(b"10 zz ima-ng nonsense\n".to_vec())),
            FaultName::EvidenceMalformed,
        ),
        (
            "IMA entry removed",
            |r| {
                let text = String::from_utf8(r.ima_log.as_ref().unwrap().0.clone()).unwrap();
                let kept: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.ends_with("/usr/bin/conmon"))
                    .collect();
                r.ima_log = Some(B64(format!("{}\n", kept.join("\n")).into_bytes()));
            },
            FaultName::ImaReplayMismatch,
        ),
        (
            "no event log",
            |r| r.event_log = None,
            FaultName::EventLogMissing,
        ),
    ];
    for (what, mutate, expected) in cases {
        let ch = s.challenge().await.unwrap();
        let mut req = s.collect(&ch).await.unwrap();
        mutate(&mut req);
        let r = s
            .submit(&req)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let rep = report(&p, &r).await;
        assert!(!r.trusted, "{what}: must not be trusted");
        let names = fault_names(&rep);
        // A changed log digest either fails to parse or fails to replay, depending on the byte.
        let ok = names.contains(&expected)
            || (what == "event log digest changed"
                && names.contains(&FaultName::EventLogReplayMismatch));
        assert!(ok, "{what}: expected {expected:?}, got {names:?}");
        // The service keeps running and the next honest attestation is trusted again.
        assert!(
            s.attest_once().await.unwrap().trusted,
            "{what}: honest evidence after it"
        );
    }
    // A quote made by another node's TPM (another AK) for this node's nonce.
    let ch = s.challenge().await.unwrap();
    let foreign = sessions[1].collect(&ch).await.unwrap();
    let r = s.submit(&foreign).await.unwrap();
    assert!(!r.trusted);
    assert_eq!(
        fault_names(&report(&p, &r).await),
        vec![FaultName::QuoteInvalid]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonces_are_fresh_single_use_and_expire() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("nonce").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    // Long enough for a quote on a loaded machine (1 s failed in CI under load), short
    // enough to wait out below.
    let p = Platform::start(dir, node.ca.clone(), |c| c.nonce_lifetime_secs = 4)
        .await
        .unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    let ch = s.challenge().await.unwrap();
    let req = s.collect(&ch).await.unwrap();
    s.submit(&req).await.unwrap();
    assert_eq!(
        refused(s.submit(&req).await),
        ErrorKind::NonceInvalid,
        "a replayed nonce is refused"
    );
    let mut unknown = req.clone();
    unknown.nonce = B64(vec![7; 32]);
    assert_eq!(refused(s.submit(&unknown).await), ErrorKind::NonceInvalid);
    let ch = s.challenge().await.unwrap();
    let late = s.collect(&ch).await.unwrap();
    // Whole seconds: past the lifetime by more than one second's rounding.
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    assert_eq!(
        refused(s.submit(&late).await),
        ErrorKind::NonceInvalid,
        "an expired nonce is refused"
    );
    assert!(s.attest_once().await.is_ok());
}
