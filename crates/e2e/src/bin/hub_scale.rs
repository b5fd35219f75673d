//! The hub's side of governance at fleet scale: CLUSTERS registered clusters (each with
//! its own client certificate) × POLICIES policies. Measured, against the real service
//! over mutual TLS:
//!
//! * status ingestion: every cluster posts its whole compliance report (POLICIES
//!   statuses, a tenth non-compliant with samples that raise alerts), twice (the second
//!   round changes a tenth of the statuses, which writes history rows); reports/s and
//!   statuses/s, with latency percentiles;
//! * the baseline in the same run: the same clients, the same connections, asking for
//!   their bundle with the version they hold (a 304 after the same authentication);
//! * aggregation: `GET /v1/compliance` (every policy × every cluster, worst wins) and the
//!   CSV export of one policy's history across the fleet.
//!
//! `cargo run --release -p ironroot-e2e --bin ironroot-hub-scale-bench -- [CLUSTERS] [POLICIES] [CONCURRENCY] [sqlite|postgres]`
//!
//! `postgres` runs the service on a throwaway PostgreSQL cluster (Debian's server
//! binaries, as the tests use).

use anyhow::Context;
use futures_util::stream::{self, StreamExt};
use ironroot_api::{
    ComplianceReport, ComplianceStatus, ObjectRef, PolicyChange, PolicyCompliance, RegisterCluster,
    ViolationSample,
};
use ironroot_client::{Client, HistoryQuery};
use ironroot_e2e::{Platform, TempDir};
use std::time::{Duration, Instant};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints one line and returns the rate (per second).
fn summary(label: &str, mut v: Vec<Duration>, wall: Duration) -> f64 {
    v.sort();
    let rate = v.len() as f64 / wall.as_secs_f64();
    println!(
        "{label:<34} n={:<5} {rate:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        v.len(),
        ms(pct(&v, 0.5)),
        ms(pct(&v, 0.99)),
        ms(v.last().copied().unwrap_or_default())
    );
    rate
}

/// A policy set of `n` policies: the built-ins that need no outside data, cycled.
fn policy_set(n: usize) -> String {
    let rules = [
        "{ no-privileged: {} }",
        "{ run-as-non-root: {} }",
        "{ read-only-root-filesystem: {} }",
        "{ resource-limits: { cpu: true, memory: true } }",
        "{ approved-registries: { registries: [\"registry.example.com/apps\"] } }",
        "{ pod-security: { level: baseline, version: latest } }",
    ];
    let mut s = String::from("version: 1\npolicies:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  - id: p-{i:03}\n    description: policy {i}\n    severity: high\n    \
             mode: audit\n    remediation: alert\n    rule: {}\n",
            rules[i % rules.len()]
        ));
    }
    s
}

/// Cluster `c`'s report in `round`: statuses spread so that a tenth are non-compliant and
/// the second round moves a tenth of them.
fn report(c: usize, policies: usize, round: usize, version: u64) -> ComplianceReport {
    let policies = (0..policies)
        .map(|p| {
            let k = (c * 7 + p * 13 + round * usize::from(c.is_multiple_of(10))) % 10;
            let status = match k {
                0 => ComplianceStatus::NonCompliant,
                1 => ComplianceStatus::Unknown,
                _ => ComplianceStatus::Compliant,
            };
            let samples = if status == ComplianceStatus::NonCompliant {
                (0..2)
                    .map(|i| ViolationSample {
                        object: ObjectRef {
                            namespace: format!("team-{}", i),
                            kind: "Pod".into(),
                            name: format!("app-{c}-{p}-{i}"),
                        },
                        message: "privileged container".into(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            PolicyCompliance {
                policy: format!("p-{p:03}"),
                status,
                checked: 40,
                violations: samples.len() as u64,
                unknown: u64::from(status == ComplianceStatus::Unknown),
                samples,
            }
        })
        .collect();
    ComplianceReport {
        policy_version: version,
        generated_at: ironroot_timestamp::now_unix(),
        webhook_serving: true,
        policies,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let clusters: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let policies: usize = args.next().map_or(Ok(30), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    let database = args.next().unwrap_or_else(|| "sqlite".into());
    let pg = match database.as_str() {
        "sqlite" => None,
        "postgres" => Some(
            ironroot_testkit::databases::PgCluster::start()
                .context("PostgreSQL's server binaries are missing (scripts/install-deps.sh)")?,
        ),
        other => anyhow::bail!("the database is sqlite or postgres, not {other:?}"),
    };
    ironroot_tls::install_process_provider();
    let url = pg.as_ref().map(|pg| pg.url());
    let p = Platform::start(TempDir::new("hub-scale")?, Vec::new(), |c| {
        // No TPM enrolls here: only clusters.
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
        c.database = url;
    })
    .await?;
    println!("hub: one service ({database}), {clusters} clusters x {policies} policies, {concurrency} in flight");

    let t = Instant::now();
    let mut ids = Vec::with_capacity(clusters);
    for i in 0..clusters {
        let name = format!("c{i:04}");
        let (key, csr) = ironroot_client::new_key_and_csr(&name)?;
        let reg = p
            .admin
            .register_cluster(&RegisterCluster { name, csr_pem: csr })
            .await?;
        ids.push((reg.cert_pem, key));
    }
    println!(
        "registered {clusters} clusters in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let doc = p
        .admin
        .put_policies(&PolicyChange {
            document: policy_set(policies),
            by: "bench".into(),
            comment: None,
        })
        .await
        .context("publishing the policy set")?;
    let version = doc.version;
    let url = p.url();
    let ca = p.service.ca_pem.clone();
    let clients: Vec<Client> = ids
        .iter()
        .map(|(cert, key)| Client::agent(&url, ca.as_bytes(), Some((cert, key))))
        .collect::<Result<_, _>>()?;

    // Every client pulls its bundle once (connections open, the same for both runs).
    for c in &clients {
        c.policy_bundle(None)
            .await
            .context("the first bundle")?
            .context("no bundle")?;
    }

    let baseline = run(&clients, concurrency, |c, _| async move {
        anyhow::ensure!(c.policy_bundle(Some(version)).await?.is_none(), "not 304");
        Ok(())
    })
    .await?;
    let base_rate = summary("baseline: bundle unchanged (304)", baseline.0, baseline.1);
    let mut rates = Vec::new();
    for round in 0..2 {
        let r = run(&clients, concurrency, |c, i| async move {
            c.report_compliance(&report(i, policies, round, version))
                .await?;
            Ok(())
        })
        .await?;
        let label = format!("compliance reports, round {}", round + 1);
        rates.push(summary(&label, r.0, r.1));
    }
    let report_rate = rates.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "ingestion: {report_rate:.0} reports/s = {:.0} statuses/s (slower round); \
         {:.2}x the baseline's request rate",
        report_rate * policies as f64,
        report_rate / base_rate
    );

    let mut agg = Vec::new();
    let mut overview = None;
    for _ in 0..5 {
        let t = Instant::now();
        overview = Some(p.admin.compliance().await?);
        agg.push(t.elapsed());
    }
    let o = overview.context("no overview")?;
    anyhow::ensure!(
        o.policies.len() == policies,
        "overview lists {} policies",
        o.policies.len()
    );
    anyhow::ensure!(
        o.policies.iter().all(|p| p.clusters.len() == clusters),
        "a policy does not list every cluster"
    );
    let wall: Duration = agg.iter().sum();
    summary("aggregation: GET /v1/compliance", agg, wall);
    let t = Instant::now();
    // One policy's history across the fleet (the whole fleet's is over the export's
    // 10,000-row limit, which asks for a narrower query).
    let q = HistoryQuery {
        policy: Some("p-000".into()),
        ..HistoryQuery::default()
    };
    let csv = p.admin.compliance_history_csv(&q).await?;
    println!(
        "history export (CSV, one policy): {} rows in {:.1} ms; overall status {}",
        csv.lines().count().saturating_sub(1),
        ms(t.elapsed()),
        o.status.as_str()
    );
    Ok(())
}

/// Runs `f` once per client, `concurrency` at a time: each call's latency and the wall time.
async fn run<F, Fut>(
    clients: &[Client],
    concurrency: usize,
    f: F,
) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    F: Fn(Client, usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let t = Instant::now();
    let results: Vec<anyhow::Result<Duration>> = stream::iter(clients.iter().cloned().enumerate())
        .map(|(i, c)| {
            let fut = f(c, i);
            async move {
                let t = Instant::now();
                fut.await?;
                Ok(t.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = t.elapsed();
    let lat = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok((lat, wall))
}
