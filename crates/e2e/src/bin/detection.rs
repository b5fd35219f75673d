//! Detection time: tamper to untrusted, over many nodes, with change-triggered
//! attestation. Each node runs the real agent (PCR-10 watch, as on a real host) against
//! a real service; each is tampered once (its runc replaced and measured by IMA) and the
//! time until the service's event stream says `untrusted` is recorded. The baseline, in
//! the same run, is one full attestation round trip (challenge, quote, evidence).
//!
//! `cargo run --release -p ironroot-e2e --bin ironroot-detection-bench -- [NODES]`

use anyhow::Context;
use ironroot_api::{FlavorsFromHostRequest, TrustEvent, TrustState};
use ironroot_e2e::{Node, Platform, SharedTpm, TempDir};
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20);
    let dir = TempDir::new("detect")?;
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(Node::boot(&dir.0, &format!("node-{i}")).await?);
    }
    let cas = nodes.iter().flat_map(|n| n.ca.clone()).collect();
    let p = Platform::start(dir, cas, |c| {
        c.attestation_interval_secs = 60;
        c.trust_validity_secs = 120;
        // Every simulated node enrolls from this one address.
        c.enroll_rate = ironroot_server::RateBudget {
            burst: 1000,
            per_second: 1000,
        };
    })
    .await?;
    let mut baseline = Vec::new();
    let mut agents = Vec::new();
    let mut tpms = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut s = node.session(&p.url(), &p.service.ca_pem)?;
        let host_id = s.ensure_enrolled().await?;
        s.attest_once().await?;
        if i == 0 {
            let req = FlavorsFromHostRequest {
                host_id,
                label: "golden".into(),
                parts: vec![],
                flavor_group: None,
            };
            p.admin.flavors_from_host(&req).await?;
        }
        let t = Instant::now();
        anyhow::ensure!(s.attest_once().await?.trusted, "{} not trusted", node.name);
        baseline.push(t.elapsed());
        let cfg = s.config().clone();
        drop(s);
        let tpm = SharedTpm(Arc::new(Mutex::new(EsapiTpm::open(
            &node.swtpm.tcti(),
            AkConfig::default(),
        )?)));
        agents.push(tokio::spawn(ironroot_agent::run(
            cfg,
            Box::new(tpm.clone()),
        )));
        tpms.push(tpm);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut events = p.admin.event_stream("/v1/events", None).await?;
    let mut buf = String::new();
    let mut detections = Vec::new();
    for (node, tpm) in nodes.iter_mut().zip(&tpms) {
        let runc = node.layout.runtime_dir().join("usr/sbin/runc");
        let mut bytes = std::fs::read(&runc)?;
        bytes.extend_from_slice(b"implant");
        std::fs::write(&runc, bytes)?;
        let mut ima = node.ima.take().context("node not booted")?;
        let mut t = tpm.clone();
        let start = Instant::now();
        tokio::task::spawn_blocking(move || ima.measure_changes(&mut t)).await??;
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(30), events.chunk())
                .await?
                .context("stream ended")?
                .context("no chunk")?;
            buf.push_str(&String::from_utf8_lossy(&chunk));
            let mut found = false;
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    let e: TrustEvent = serde_json::from_str(data.trim())?;
                    if e.hostname == node.name && e.trust == TrustState::Untrusted {
                        found = true;
                    }
                }
            }
            if found {
                break;
            }
        }
        detections.push(start.elapsed());
    }
    for a in agents {
        a.abort();
    }
    baseline.sort();
    detections.sort();
    let base = pct(&baseline, 0.5);
    println!("nodes: {n}; agent PCR-10 watch every 500 ms; scheduled attestation every 60 s");
    println!(
        "baseline: one attestation round trip p50 {:.1} ms",
        base.as_secs_f64() * 1e3
    );
    for (name, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        let d = pct(&detections, p);
        println!(
            "tamper to untrusted {name}: {:.0} ms ({:.1}x the round trip)",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / base.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}
