//! A load generator for the attestation service: it plays a fleet of nodes, each with a
//! software attestation key (`ironroot-testkit`), its own client certificate and one
//! persistent mutual-TLS connection, attesting on its own open-loop timer over the real
//! wire (challenge, a fresh quote over the server's nonce, evidence with the node's logs).
//!
//! Benchmark only: its nodes are enrolled through `POST /v1/bench/enroll`, which a
//! service has only when built with the `bench-enrollment` feature and started with
//! benchmark enrollment allowed. It must never be pointed at a production service.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod conn;
pub mod fleet;
pub mod node;
pub mod procstat;
pub mod report;
pub mod runner;

use conn::Target;
use node::FleetImage;
use report::StepReport;
use runner::{Health, Plan, Recorder, Sample, Shared, Step};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything a run needs, decided in `main`.
pub struct Options {
    /// The service's replicas (one or more), all sharing one database and one CA.
    pub targets: Vec<Target>,
    pub admin_token: String,
    /// The replicas' process ids: their CPU and memory are summed.
    pub server_pids: Vec<u32>,
    pub nodes: usize,
    pub ak: ironroot_testkit::AkKind,
    pub image: ironroot_testkit::ImageSize,
    pub warmup: Step,
    pub steps: Vec<Step>,
    /// Left out of each step's figures while the service adapts to the new rate.
    pub settle: Duration,
    pub jitter: f64,
    pub timeout: Duration,
    pub p99_limit: Duration,
    /// In a ramp, steps still run after the first whose p99 passed the limit.
    pub steps_after_breach: usize,
    /// Attempts per attestation (the first included) before it counts as failed.
    pub max_attempts: usize,
    /// How long a replica whose connection failed is avoided.
    pub down_hold: Duration,
    /// Sends SIGKILL to this process this long after the load starts (the kill test).
    pub kill: Option<(u32, Duration)>,
}

/// Everything a run measured.
pub struct RunResult {
    /// One report per measured step.
    pub reports: Vec<StepReport>,
    /// Every attestation, warm-up included.
    pub samples: Vec<Sample>,
    /// When the load started.
    pub start: Instant,
    /// When the kill was sent, if one was asked for and sent.
    pub killed_at: Option<Instant>,
    pub host_ids: Vec<String>,
}

/// Sets the fleet up, runs the plan, and returns one report per measured step and every
/// sample.
pub async fn run(opts: Options, log: impl Fn(&str)) -> anyhow::Result<RunResult> {
    let fleet = Arc::new(
        FleetImage::new(ironroot_testkit::HostImage::build(opts.image)?)
            .map_err(anyhow::Error::msg)?,
    );
    log(&format!(
        "image: boot log {} bytes, IMA list {} bytes ({} files)",
        fleet.image.boot_log.len(),
        fleet.image.ima_log.len(),
        opts.image.ima_files
    ));
    let t = Instant::now();
    let nodes = fleet::enroll(&opts.targets, opts.nodes, opts.ak).await?;
    log(&format!(
        "enrolled {} nodes in {:.1} s",
        nodes.len(),
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    let mut nodes = fleet::connect_all(&opts.targets, nodes).await?;
    log(&format!(
        "opened {} mutual-TLS connections in {:.1} s",
        nodes.len(),
        t.elapsed().as_secs_f64()
    ));
    let golden = nodes
        .first_mut()
        .ok_or_else(|| anyhow::anyhow!("no nodes"))?;
    let n = fleet::flavors_from(&opts.targets, &fleet, golden, &opts.admin_token).await?;
    log(&format!(
        "created {n} flavors from {}; it is trusted",
        golden.host_id
    ));
    let host_ids: Vec<String> = nodes.iter().map(|n| n.host_id.clone()).collect();
    if opts.targets.len() > 1 {
        // Other replicas cache flavors for up to a second.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    let mut all_steps = vec![opts.warmup];
    all_steps.extend(opts.steps.iter().copied());
    let start = Instant::now() + Duration::from_millis(200);
    let plan = Arc::new(Plan::new(
        opts.nodes,
        opts.jitter,
        opts.timeout,
        &all_steps,
        start,
    ));
    let rec = Arc::new(Recorder::default());
    let shared = Arc::new(Shared {
        targets: opts.targets.clone(),
        fleet,
        plan: plan.clone(),
        rec: rec.clone(),
        health: Health::new(opts.targets.len(), opts.down_hold),
        max_attempts: opts.max_attempts.max(1),
    });
    let runner = tokio::spawn(runner::run(nodes, shared));
    let killer = opts.kill.map(|(pid, after)| {
        tokio::spawn(async move {
            tokio::time::sleep_until((start + after).into()).await;
            let ok = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            // Once `kill` has returned the process is gone: later answers are not its.
            ok.then(Instant::now)
        })
    });
    let usage = watch_steps(&opts, &plan, &rec, &log).await;
    runner.await?;
    let killed_at = match killer {
        Some(k) => k.await?,
        None => None,
    };
    if let (Some((pid, _)), Some(at)) = (opts.kill, killed_at) {
        log(&format!(
            "sent SIGKILL to replica pid {pid} at {:.3} s into the load",
            at.saturating_duration_since(start).as_secs_f64()
        ));
    }
    let mut reports = Vec::new();
    for (k, (a, b, step)) in plan.steps.iter().enumerate() {
        let window = (*a + opts.settle, *b);
        let samples = rec.scheduled_in(window.0, window.1);
        // Steps after a ramp stopped have no samples.
        if !step.measured || samples.is_empty() {
            continue;
        }
        let mut r = report::summarise(&samples, window, step.rate);
        if let Some(u) = usage.get(k).copied().flatten() {
            (
                r.server_cpu,
                r.server_rss_mib,
                r.server_hwm_mib,
                r.loadgen_cpu,
            ) = u;
        }
        reports.push(r);
    }
    Ok(RunResult {
        reports,
        samples: rec.all(),
        start,
        killed_at,
        host_ids,
    })
}

type Usage = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

/// Samples the service's and our own CPU over each step's window, prints each step as it
/// ends, and stops a ramp once p99 has passed the limit for long enough.
async fn watch_steps(
    opts: &Options,
    plan: &Plan,
    rec: &Recorder,
    log: &impl Fn(&str),
) -> Vec<Option<Usage>> {
    let ticks = procstat::ticks_per_second();
    let pids: Vec<String> = opts.server_pids.iter().map(u32::to_string).collect();
    let sample_all = || -> Vec<Option<procstat::ProcSample>> {
        pids.iter().map(|p| procstat::sample(p)).collect()
    };
    let mut usage = Vec::new();
    let mut breached = None;
    log(report::HEADER);
    for (k, (a, b, step)) in plan.steps.iter().enumerate() {
        let from = if step.measured { *a + opts.settle } else { *a };
        tokio::time::sleep_until(from.into()).await;
        let s0 = sample_all();
        let l0 = procstat::sample("self");
        tokio::time::sleep_until((*b).into()).await;
        let s1 = sample_all();
        let l1 = procstat::sample("self");
        let cpu = |x: Option<procstat::ProcSample>, y: Option<procstat::ProcSample>| {
            Some(procstat::cpu_percent(&x?, &y?, ticks))
        };
        // Summed over the replicas alive at both ends of the window.
        let sum = |v: Vec<Option<f64>>| {
            let v: Vec<f64> = v.into_iter().flatten().collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>())
        };
        usage.push(Some((
            sum(s0.iter().zip(&s1).map(|(x, y)| cpu(*x, *y)).collect()),
            sum(s1
                .iter()
                .map(|s| s.map(|s| s.rss_kib as f64 / 1024.0))
                .collect()),
            sum(s1
                .iter()
                .map(|s| s.map(|s| s.hwm_kib as f64 / 1024.0))
                .collect()),
            cpu(l0, l1),
        )));
        // Let in-flight attestations of the window land before the provisional figures.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut r = report::summarise(&rec.scheduled_in(from, *b), (from, *b), step.rate);
        (
            r.server_cpu,
            r.server_rss_mib,
            r.server_hwm_mib,
            r.loadgen_cpu,
        ) = usage.last().copied().flatten().unwrap_or_default();
        let label = if step.measured { "" } else { "  (warm-up)" };
        log(&format!("{}{label}", r.row()));
        if step.measured && r.p99 > opts.p99_limit && breached.is_none() {
            breached = Some(k);
        }
        if breached.is_some_and(|first| k >= first + opts.steps_after_breach) {
            plan.stop.store(true, Ordering::Relaxed);
            break;
        }
    }
    usage
}
