//! Alert delivery time: from a host's trust loss (an attestation the service finds
//! untrusted, which raises the alert in the transaction that records the verdict) to a
//! webhook sink receiving the signed notice, over ALERTS alerts. The baseline, in the
//! same run, is the same HTTPS POST (same body size, signed, same receiver) made directly.
//!
//! Real: swtpm nodes, the agent's attestation, the service, the outbox and its worker,
//! HTTPS with TLS 1.3 to a loopback receiver that verifies each signature. Each cycle
//! moves a host to a flavor group with no flavors (untrusted: the alert opens or
//! reopens), measures, and moves it back (trusted: the alert resolves).
//!
//! `cargo run --release -p ironroot-e2e --bin ironroot-alert-delivery-bench -- [ALERTS] [NODES]`

mod receiver;

use anyhow::Context;
use ironroot_alerts::webhook::{body, sign, DELIVERY_HEADER, SIGNATURE_HEADER};
use ironroot_api::{AlertChange, AssignGroup, SinkSpec, WebhookSink};
use ironroot_e2e::{Node, Platform, TempDir};
use ironroot_verifier::FlavorGroup;
use std::time::{Duration, Instant};

const SECRET: &[u8] = b"bench-secret-0123456789";

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, v: &mut [Duration]) -> Duration {
    v.sort();
    println!(
        "{label:<44} n={:<4} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        v.len(),
        ms(pct(v, 0.5)),
        ms(pct(v, 0.9)),
        ms(pct(v, 0.99)),
        ms(v.last().copied().unwrap_or_default())
    );
    pct(v, 0.99)
}

async fn next_opened(rx: &mut receiver::Receiver) -> anyhow::Result<receiver::Received> {
    loop {
        let r = tokio::time::timeout(Duration::from_secs(30), rx.rx.recv())
            .await
            .context("no notice within 30 s")?
            .context("receiver stopped")?;
        if r.first && matches!(r.notice.change, AlertChange::Opened | AlertChange::Reopened) {
            return Ok(r);
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let alerts: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut rx = receiver::Receiver::start(SECRET).await?;
    let dir = TempDir::new("alert-bench")?;
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(Node::boot(&dir.0, &format!("node-{i}")).await?);
    }
    let cas = nodes.iter().flat_map(|n| n.ca.clone()).collect();
    let p = Platform::start(dir, cas, |c| {
        c.attestation_interval_secs = 600;
        c.trust_validity_secs = 3600;
        // Each host attests twice per cycle, far more often than an agent would.
        let plenty = ironroot_server::RateBudget {
            burst: 10_000,
            per_second: 10_000,
        };
        c.attest_rate = plenty;
        c.enroll_rate = plenty;
    })
    .await?;
    let spec = SinkSpec::Webhook(WebhookSink {
        url: rx.url(),
        secret: Some(String::from_utf8(SECRET.to_vec())?),
        ca_pem: Some(rx.ca_pem.clone()),
        min_severity: None,
    });
    p.admin.put_sink("bench", &spec).await?;
    p.admin
        .put_flavor_group(&FlavorGroup::default_group("empty"))
        .await?;
    let mut sessions = ironroot_e2e::trusted_sessions(&p, &nodes).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while rx.rx.try_recv().is_ok() {}

    let (mut from_verdict, mut from_attest) = (Vec::new(), Vec::new());
    let mut sample_body = Vec::new();
    for i in 0..alerts {
        let (s, host_id) = &mut sessions[i % n];
        let group = |g: &str| AssignGroup {
            flavor_group: g.into(),
        };
        p.admin.assign_group(host_id, &group("empty")).await?;
        let start = Instant::now();
        anyhow::ensure!(!s.attest_once().await?.trusted, "still trusted");
        let verdict = Instant::now();
        let r = next_opened(&mut rx).await?;
        // Zero when the notice arrived before the agent read its verdict.
        from_verdict.push(r.at.saturating_duration_since(verdict));
        from_attest.push(r.at.duration_since(start));
        sample_body = body(&r.notice)?;
        p.admin.assign_group(host_id, &group("automatic")).await?;
        anyhow::ensure!(s.attest_once().await?.trusted, "not trusted again");
    }

    // Baseline: the same signed POST, made directly to the same receiver.
    let tls =
        ironroot_tls::client_config(ironroot_tls::roots_from_pem(rx.ca_pem.as_bytes())?, None)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()?;
    let mut direct = Vec::new();
    for i in 0..alerts {
        let mut notice = serde_json::from_slice::<serde_json::Value>(&sample_body)?;
        notice["delivery_id"] = format!("direct-{i}").into();
        let b = serde_json::to_vec(&notice)?;
        let start = Instant::now();
        let res = http
            .post(rx.url())
            .header("content-type", "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(SECRET, ironroot_timestamp::now_unix(), &b),
            )
            .header(DELIVERY_HEADER, format!("direct-{i}"))
            .body(b)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "baseline POST: {}", res.status());
        loop {
            let r = tokio::time::timeout(Duration::from_secs(5), rx.rx.recv())
                .await?
                .context("receiver")?;
            // Skip the service's own late notices (the last cycles' resolutions).
            if r.notice.delivery_id == format!("direct-{i}") {
                direct.push(r.at.duration_since(start));
                break;
            }
        }
    }

    println!("alert delivery: {alerts} alerts over {n} swtpm nodes, webhook over HTTPS (loopback)");
    let p99 = summary("verdict returned -> webhook received", &mut from_verdict);
    let p99_attest = summary("attestation sent -> webhook received", &mut from_attest);
    let base = summary("baseline: the same HTTPS POST, direct", &mut direct);
    println!(
        "ratio p99 (verdict -> received) / p99 (direct POST): {:.1}x; attestation-inclusive {:.1}x",
        ms(p99) / ms(base).max(0.001),
        ms(p99_attest) / ms(base).max(0.001)
    );
    println!(
        "goal p99 < 1000 ms: {}",
        if p99_attest < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
