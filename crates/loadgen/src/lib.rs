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
use runner::{Plan, Recorder, Step};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything a run needs, decided in `main`.
pub struct Options {
    pub target: Target,
    pub admin_token: String,
    pub server_pid: Option<u32>,
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
}

/// Sets the fleet up, runs the plan, and returns one report per measured step.
pub async fn run(opts: Options, log: impl Fn(&str)) -> anyhow::Result<Vec<StepReport>> {
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
    let nodes = fleet::enroll(&opts.target, opts.nodes, opts.ak).await?;
    log(&format!(
        "enrolled {} nodes in {:.1} s",
        nodes.len(),
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    let mut nodes = fleet::connect_all(&opts.target, nodes).await?;
    log(&format!(
        "opened {} mutual-TLS connections in {:.1} s",
        nodes.len(),
        t.elapsed().as_secs_f64()
    ));
    let golden = nodes
        .first_mut()
        .ok_or_else(|| anyhow::anyhow!("no nodes"))?;
    let n = fleet::flavors_from(&opts.target, &fleet, golden, &opts.admin_token).await?;
    log(&format!(
        "created {n} flavors from {}; it is trusted",
        golden.host_id
    ));

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
    let runner = tokio::spawn(runner::run(
        nodes,
        Arc::new(opts.target.clone()),
        fleet,
        plan.clone(),
        rec.clone(),
    ));
    let usage = watch_steps(&opts, &plan, &rec, &log).await;
    runner.await?;
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
    Ok(reports)
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
    let pid = opts.server_pid.map(|p| p.to_string());
    let mut usage = Vec::new();
    let mut breached = None;
    log(report::HEADER);
    for (k, (a, b, step)) in plan.steps.iter().enumerate() {
        let from = if step.measured { *a + opts.settle } else { *a };
        tokio::time::sleep_until(from.into()).await;
        let s0 = pid.as_deref().and_then(procstat::sample);
        let l0 = procstat::sample("self");
        tokio::time::sleep_until((*b).into()).await;
        let s1 = pid.as_deref().and_then(procstat::sample);
        let l1 = procstat::sample("self");
        let cpu = |x: Option<procstat::ProcSample>, y: Option<procstat::ProcSample>| {
            Some(procstat::cpu_percent(&x?, &y?, ticks))
        };
        usage.push(Some((
            cpu(s0, s1),
            s1.map(|s| s.rss_kib as f64 / 1024.0),
            s1.map(|s| s.hwm_kib as f64 / 1024.0),
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
