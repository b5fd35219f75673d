//! On a real host (no development-node IMA emulation) the agent notices new IMA
//! measurements by watching PCR 10 and attests at once, long before its schedule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_api::{FlavorList, FlavorsFromHostRequest, TrustEvent, TrustState};
use ironroot_e2e::SharedTpm as Shared;
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ima_measurement_triggers_attestation_at_once() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("watch").unwrap();
    let mut node = Node::boot(&dir.0, "node-1").await.unwrap();
    // Scheduled attestations every 30 s: anything sooner is change-triggered.
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.attestation_interval_secs = 30;
        c.trust_validity_secs = 60;
    })
    .await
    .unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    let req = FlavorsFromHostRequest {
        host_id,
        label: "g".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    let cfg = s.config().clone();
    drop(s);

    let tpm = Shared(Arc::new(Mutex::new(
        EsapiTpm::open(&node.swtpm.tcti(), AkConfig::default()).unwrap(),
    )));
    let mut events = p.admin.event_stream("/v1/events", None).await.unwrap();
    let agent = tokio::spawn(ironroot_agent::run(cfg, Box::new(tpm.clone())));
    tokio::time::sleep(Duration::from_secs(1)).await; // the agent's first, scheduled attestation

    // The kernel's IMA measures a replaced runc: PCR 10 moves, the list grows.
    let runc = node.layout.runtime_dir().join("usr/sbin/runc");
    let mut bytes = std::fs::read(&runc).unwrap();
    bytes.extend_from_slice(b"implant");
    std::fs::write(&runc, bytes).unwrap();
    let mut ima = node.ima.take().unwrap();
    let tampered = Instant::now();
    let t = tpm.clone();
    tokio::task::spawn_blocking(move || ima.measure_changes(&mut t.clone()).unwrap())
        .await
        .unwrap();

    let mut buf = String::new();
    let event: TrustEvent = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
            .await
            .expect("detected in time")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(line) = buf
            .lines()
            .find(|l| l.starts_with("data:") && l.contains("\"untrusted\""))
        {
            break serde_json::from_str(line.trim_start_matches("data:").trim()).unwrap();
        }
    };
    let detected = tampered.elapsed();
    agent.abort();
    assert_eq!(
        (event.previous, event.trust),
        (TrustState::Trusted, TrustState::Untrusted)
    );
    assert!(
        event.reasons.iter().any(|r| r.contains("/usr/sbin/runc")),
        "{:?}",
        event.reasons
    );
    assert!(
        detected < Duration::from_secs(30),
        "change-triggered, not scheduled ({detected:?})"
    );
    eprintln!("tamper to untrusted event: {detected:?}");
}
