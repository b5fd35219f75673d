//! The controller's footprint with 1,000 Nodes (issue 13): time to the first full
//! reconcile, memory and CPU of the `ironroot controller` process, measured from
//! `/proc/PID/stat` and `/proc/PID/status`, in three phases:
//!   - first reconcile: the controller starts with every host bound, trusted and
//!     unlabelled, until every Node carries `trust=trusted`;
//!   - steady state: every host attests again once (a new signed report each), spread
//!     over the window; the controller's resync republishes the reports it finds new;
//!   - burst: FLIP hosts attest with a changed boot log (a real untrusted verdict each),
//!     until every one of their Nodes reads `trust=untrusted` (and is tainted).
//!
//! Real: a control plane from `scripts/kube-cluster.sh` (kube-apiserver, etcd,
//! controller-manager, scheduler, kwok); the service (`ironroot server`) and the
//! controller as processes of the `ironroot` binary beside this one; mutual TLS, quotes,
//! flavors and signed reports. Simulated: the hosts (software AKs through benchmark
//! enrollment, `crates/loadgen`), and the Nodes beyond the script's first few, created
//! here as kwok-managed Node objects (no per-node kubelet certificate).
//!
//! The baseline, read at the same moments: the same cluster's kube-scheduler, which also
//! watches every Node (and Pod); the run prints the ratios of memory and CPU.
//!
//! `cargo build --release -p ironroot-cli --features bench-enrollment`
//! `cargo run --release -p ironroot-e2e --bin ironroot-controller-footprint-bench -- [NODES] [FLIP] [STEADY_SECS]`
//! (the `ironroot` binary beside this one, or `$IRONROOT_BIN`).

use anyhow::{bail, Context};
use futures_util::StreamExt;
use ironroot_controller::labels::TRUST_LABEL;
use ironroot_loadgen::conn::Target;
use ironroot_loadgen::node::{FleetImage, SimNode};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Nodes the script creates (each with its own kubelet certificate); the rest are made here.
const SCRIPT_NODES: usize = 3;
const PARALLEL: usize = 16;
/// The hardware UUID of every host enrolled without a TPM (crates/server bench_enroll.rs):
/// the Nodes report it as their systemUUID, so the controller's check that a bound host's
/// hardware UUID is its Node's passes, as it does for a real node.
const BENCH_UUID: &str = "bench-enrollment";
const REPORT_ANNOTATION: &str = "ironroot.node-restriction.kubernetes.io/report";

/// A child process killed when dropped.
struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One reading of a process: CPU seconds (utime + stime) and memory.
#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    cpu: f64,
    rss_kib: u64,
    hwm_kib: u64,
}

fn read_proc(pid: u32, tps: f64) -> anyhow::Result<Reading> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Ok(Reading {
        at: Instant::now(),
        cpu: (ticks(11) + ticks(12)) as f64 / tps,
        rss_kib: kib("VmRSS:"),
        hwm_kib: kib("VmHWM:"),
    })
}

/// What the Node watch sees now.
#[derive(Clone, Copy, Default, Debug)]
struct Counts {
    nodes: usize,
    ready: usize,
    trusted: usize,
    untrusted: usize,
    /// Changes of a Node's published report, since the watch started.
    reports: usize,
}

/// Watches every Node and publishes the counts on each change.
fn watch_nodes(api: Api<Node>) -> tokio::sync::watch::Receiver<Counts> {
    let (tx, rx) = tokio::sync::watch::channel(Counts::default());
    tokio::spawn(async move {
        let mut state: HashMap<String, (bool, Option<String>, Option<String>)> = HashMap::new();
        let mut reports = 0;
        let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
        while let Some(ev) = stream.next().await {
            let (node, gone) = match ev {
                Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) => (n, false),
                Ok(watcher::Event::Delete(n)) => (n, true),
                _ => continue,
            };
            let name = node.metadata.name.clone().unwrap_or_default();
            if gone {
                state.remove(&name);
            } else {
                let ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                let trust = node
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(TRUST_LABEL))
                    .cloned();
                let report = node
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(REPORT_ANNOTATION))
                    .cloned();
                let old = state.insert(name, (ready, trust, report.clone()));
                if report.is_some() && old.is_some_and(|o| o.2 != report) {
                    reports += 1;
                }
            }
            let count = |v: &str| state.values().filter(|s| s.1.as_deref() == Some(v)).count();
            let _ = tx.send(Counts {
                nodes: state.len(),
                ready: state.values().filter(|s| s.0).count(),
                trusted: count("trusted"),
                untrusted: count("untrusted"),
                reports,
            });
        }
    });
    rx
}

async fn wait_for(
    rx: &mut tokio::sync::watch::Receiver<Counts>,
    what: &str,
    limit: Duration,
    done: impl Fn(&Counts) -> bool,
) -> anyhow::Result<Instant> {
    let wait = rx.wait_for(|c| done(c));
    let reached = matches!(tokio::time::timeout(limit, wait).await, Ok(Ok(_)));
    if !reached {
        bail!("not within {limit:?}: {what} (now {:?})", *rx.borrow());
    }
    Ok(Instant::now())
}

/// The Node objects `node-(from)..=node-(to)`, managed by kwok like the script's.
async fn create_nodes(api: &Api<Node>, from: usize, to: usize) -> anyhow::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    let all: Vec<usize> = (from..=to).collect();
    for chunk in all.chunks(all.len().div_ceil(PARALLEL).max(1)) {
        let (api, chunk) = (api.clone(), chunk.to_vec());
        set.spawn(async move {
            for i in chunk {
                // Addresses from 198.18.0.0/15 (RFC 2544, benchmarking): data, never dialled.
                let node: Node = serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": format!("node-{i}"),
                        "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                        "labels": {"kubernetes.io/hostname": format!("node-{i}"), "kubernetes.io/os": "linux",
                                   "kubernetes.io/arch": "amd64", "type": "kwok"}},
                    "status": {
                        "addresses": [{"type": "InternalIP", "address": format!("198.18.{}.{}", i / 256, i % 256)},
                                      {"type": "Hostname", "address": format!("node-{i}")}],
                        "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                        "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                        "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.37.2",
                            "kernelVersion": "kwok-v0.8.0", "containerRuntimeVersion": "kwok-v0.8.0", "osImage": "kwok",
                            "systemUUID": BENCH_UUID, "machineID": format!("{i:032x}"),
                            "bootID": format!("10000000-0000-4000-8000-{i:012}"), "kubeProxyVersion": ""}
                    }
                }))?;
                api.create(&PostParams::default(), &node).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}

/// Gives the script's Nodes the benchmark hosts' systemUUID (see [`BENCH_UUID`]).
async fn set_uuids(api: &Api<Node>, count: usize) -> anyhow::Result<()> {
    let patch = json!({"status": {"nodeInfo": {"systemUUID": BENCH_UUID}}});
    for i in 1..=count {
        let name = format!("node-{i}");
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}

/// Each node attests once (PARALLEL at a time, or paced evenly over `spread`); the
/// number of trusted verdicts.
async fn attest_all(
    nodes: Vec<SimNode>,
    targets: &[Target],
    fleet: Arc<FleetImage>,
    spread: Option<Duration>,
) -> anyhow::Result<(Vec<SimNode>, usize)> {
    let count = nodes.len();
    let mut chunks: Vec<Vec<(usize, SimNode)>> = (0..PARALLEL).map(|_| Vec::new()).collect();
    for (i, n) in nodes.into_iter().enumerate() {
        chunks[i % PARALLEL].push((i, n));
    }
    let start = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for chunk in chunks {
        let (targets, fleet) = (targets.to_vec(), fleet.clone());
        set.spawn(async move {
            let mut out = Vec::with_capacity(chunk.len());
            for (i, mut n) in chunk {
                if let Some(s) = spread {
                    tokio::time::sleep_until(start + s.mul_f64(i as f64 / count as f64)).await;
                }
                let v = n.attest(&targets, &fleet, 0, 0).await;
                let trusted = v
                    .map_err(|e| anyhow::anyhow!("attestation: {}", e.failure))?
                    .trusted;
                out.push((i, n, trusted));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    all.sort_by_key(|(i, _, _)| *i);
    let trusted = all.iter().filter(|(_, _, t)| *t).count();
    Ok((all.into_iter().map(|(_, n, _)| n).collect(), trusted))
}

mod run;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let arg = |i: usize, default: usize| -> anyhow::Result<usize> {
        Ok(std::env::args()
            .nth(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (nodes, flip, steady) = (arg(1, 1000)?, arg(2, 100)?, arg(3, 60)?);
    if nodes < SCRIPT_NODES + 1 || flip == 0 || flip >= nodes {
        bail!("usage: [NODES > {SCRIPT_NODES}] [0 < FLIP < NODES] [STEADY_SECS]");
    }
    // `$IRONROOT_BIN`, else the `ironroot` built beside this binary.
    let bin = match std::env::var_os("IRONROOT_BIN") {
        Some(b) => std::path::PathBuf::from(b),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("ironroot"))
            .context("where this binary is")?,
    };
    if !bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p ironroot-cli --features bench-enrollment",
            bin.display()
        );
    }
    run::run(&bin, nodes, flip, Duration::from_secs(steady as u64)).await
}
