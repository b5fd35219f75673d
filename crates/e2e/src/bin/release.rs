//! Key release latency at the broker, with a real swtpm node: each release is a fresh
//! challenge, a quote and a TPM2_Certify of the binding key (TPM), the release request
//! (the broker verifies the quote and the certification, judges the node, checks the
//! policy, wraps the key to the binding key and writes the release log), and the unbind
//! (TPM). The broker's share is the release request's round trip; the TPM's share is
//! reported apart. The baseline, in the same run, is the challenge round trip (the same
//! mutual-TLS connection and a trivial handler).
//!
//! `cargo run --release -p ironroot-e2e --bin ironroot-release-bench -- [RELEASES]`

use ironroot_api::{CreateKey, FlavorsFromHostRequest, IssuedTag, KeyInfo, KeyPolicy, TagRequest};
use ironroot_e2e::{Node, Platform, TempDir};
use std::collections::BTreeMap;
use std::time::Duration;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p90, p99) = (pct(&v, 0.5), pct(&v, 0.9), pct(&v, 0.99));
    println!(
        "{name:<34} p50 {:>7.2} ms   p90 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        ms(p50),
        ms(p90),
        ms(p99),
        ms(*v.last().unwrap_or(&Duration::ZERO))
    );
    (p50, p99)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500);
    let dir = TempDir::new("release-bench")?;
    let node = Node::boot(&dir.0, "eu-1").await?;
    let p = Platform::start(dir, node.ca.clone(), |c| {
        // Measure the broker, not the per-host rate limit.
        c.attest_rate = ironroot_server::RateBudget {
            burst: 100_000,
            per_second: 100_000,
        };
    })
    .await?;
    let mut s = node.session(&p.url(), &p.service.ca_pem)?;
    let host_id = s.ensure_enrolled().await?;
    s.attest_once().await?;
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    p.admin.flavors_from_host(&req).await?;
    let tags = BTreeMap::from([("region".to_string(), "EU".to_string())]);
    let _: IssuedTag = p
        .admin
        .issue_tag(&host_id, &TagRequest { tags: tags.clone() })
        .await?;
    anyhow::ensure!(s.attest_once().await?.trusted, "the node is not trusted");
    let key: KeyInfo = p
        .admin
        .create_key(&CreateKey {
            name: "bench".into(),
            policy: KeyPolicy {
                asset_tags: tags,
                ..Default::default()
            },
            material: None,
        })
        .await?;
    for _ in 0..20 {
        s.release_key(&key.key_id).await?;
    }
    let (mut broker, mut challenge, mut tpm, mut total) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let r = s.release_key(&key.key_id).await?;
        broker.push(r.timings.broker);
        challenge.push(r.timings.challenge);
        tpm.push(r.timings.tpm);
        total.push(r.timings.total);
    }
    let tpm_sum: Duration = tpm.iter().sum();
    let total_sum: Duration = total.iter().sum();
    println!("{n} key releases to one swtpm node (SQLite, loopback, mutual TLS)\n");
    let (_, base_p99) = row("baseline: challenge round trip", challenge);
    let (_, broker_p99) = row("broker: release request round trip", broker);
    row("TPM: quote + certify + unbind", tpm);
    row("whole release, node side", total);
    println!(
        "\nbroker p99 {:.2} ms = {:.1}x the baseline round trip; the TPM (swtpm) is {:.0}% of a whole release",
        ms(broker_p99),
        broker_p99.as_secs_f64() / base_p99.as_secs_f64().max(1e-9),
        tpm_sum.as_secs_f64() / total_sum.as_secs_f64().max(1e-9) * 100.0
    );
    Ok(())
}
