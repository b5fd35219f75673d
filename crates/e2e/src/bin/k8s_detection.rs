//! Tamper to taint, and tamper to the last pod evicted, on a real control plane.
//!
//! N development nodes run the real agent (PCR-10 watch, attesting at once on a change)
//! against a real service; a real Kubernetes control plane (kube-apiserver, etcd,
//! scheduler, controller-manager, kwok) has one Node per development node, bound to it;
//! the controller runs in process with its defaults except a drain rate that lets every
//! round drain at once (one node per round). Each round tampers one node (its runc
//! replaced and measured by IMA) and records, from the same instant:
//!   - the service's `untrusted` event (the baseline: detection, which the controller
//!     cannot beat),
//!   - the Node's taint,
//!   - the moment no pod of the workload is left on the Node (evicted through the
//!     Eviction API after the 500 ms settle window the brake needs).
//!
//! The tampered host is then unbound (its Node reads `unknown`), so the brake never sees
//! more than one untrusted Node.
//!
//! `cargo run --release -p ironroot-e2e --bin ironroot-k8s-detection-bench -- [NODES]`

use anyhow::Context;
use ironroot_api::{BindNode, TrustEvent, TrustState};
use ironroot_controller::labels::TAINT_KEY;
use ironroot_e2e::{Node, Platform, SharedTpm, TempDir};
use ironroot_tpm::{AkConfig, EsapiTpm};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node as KNode, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20);
    ironroot_tls::install_process_provider();
    let dir = TempDir::new("k8s-detect")?;
    let mut nodes = Vec::new();
    for i in 1..=n {
        nodes.push(Node::boot(&dir.0, &format!("node-{i}")).await?);
    }
    let cas = nodes.iter().flat_map(|n| n.ca.clone()).collect();
    let p = Platform::start(dir, cas, |c| {
        c.attestation_interval_secs = 60;
        c.trust_validity_secs = 120;
        c.enroll_rate = ironroot_server::RateBudget {
            burst: 1000,
            per_second: 1000,
        };
    })
    .await?;
    let t = Instant::now();
    let cluster = ironroot_peers::kube::Cluster::start(n).await?;
    eprintln!(
        "control plane with {n} nodes up in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let kube = ironroot_controller::run::kube_client(Some(cluster.kubeconfig())).await?;
    let node_api: Api<KNode> = Api::all(kube.clone());

    let mut agents = Vec::new();
    let mut tpms = Vec::new();
    let mut hosts = Vec::new();
    for (node, (s, host_id)) in nodes
        .iter()
        .zip(ironroot_e2e::trusted_sessions(&p, &nodes).await?)
    {
        let uuid = json!({"status": {"nodeInfo": {"systemUUID": s.config().hardware_uuid}}});
        node_api
            .patch_status(&node.name, &PatchParams::default(), &Patch::Merge(&uuid))
            .await?;
        p.admin
            .bind_node(
                &host_id,
                &BindNode {
                    node: node.name.clone(),
                },
            )
            .await?;
        hosts.push(host_id);
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

    let mut settings = ironroot_controller::run::Settings::default();
    settings.brake.drains_per_second = 100.0;
    settings.brake.burst = 100;
    let state = Arc::new(ironroot_controller::state::State::default());
    let ctl = tokio::spawn(ironroot_controller::run::run(
        p.admin.clone(),
        kube.clone(),
        settings,
        state,
        None,
    ));

    // Two pods per node, placed by the real scheduler once every Node is trusted.
    wait(Duration::from_secs(60), || async {
        let list = node_api.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .all(|k| {
                k.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(ironroot_controller::labels::TRUST_LABEL))
                    .map(String::as_str)
                    == Some("trusted")
            })
            .then_some(())
    })
    .await
    .context("every Node trusted")?;
    let replicas = 2 * n as i32;
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [{"name": "app", "image": "registry.example/app:1",
                                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
                    "terminationGracePeriodSeconds": 0}}}
    }))?;
    let pods: Api<Pod> = Api::namespaced(kube.clone(), "default");
    Api::<Deployment>::namespaced(kube.clone(), "default")
        .create(&PostParams::default(), &d)
        .await?;

    let mut events = p.admin.event_stream("/v1/events", None).await?;
    let (mut detect, mut taint, mut evict) = (Vec::new(), Vec::new(), Vec::new());
    let mut pods_evicted = 0usize;
    for ((node, tpm), host) in nodes.iter_mut().zip(&tpms).zip(&hosts) {
        // Every replica running again, some of them on this node.
        let on_node = ListParams::default()
            .labels("app=web")
            .fields(&format!("spec.nodeName={}", node.name));
        wait(Duration::from_secs(60), || async {
            let all = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?;
            let running = all
                .items
                .iter()
                .filter(|p| {
                    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                        && p.metadata.deletion_timestamp.is_none()
                })
                .count();
            (running == replicas as usize).then_some(())
        })
        .await
        .context("the workload running")?;
        let here = pods.list(&on_node).await?.items.len();

        let runc = node.layout.runtime_dir().join("usr/sbin/runc");
        let mut bytes = std::fs::read(&runc)?;
        bytes.extend_from_slice(b"implant");
        std::fs::write(&runc, bytes)?;
        let mut ima = node.ima.take().context("node not booted")?;
        let mut t = tpm.clone();
        let start = Instant::now();
        tokio::task::spawn_blocking(move || ima.measure_changes(&mut t)).await??;

        let detected = async {
            loop {
                let ev = events
                    .next_event()
                    .await?
                    .context("the event stream ended")?;
                if ev.event.as_deref() == Some("trust") {
                    let e: TrustEvent = serde_json::from_str(&ev.data)?;
                    if e.hostname == node.name && e.trust == TrustState::Untrusted {
                        return anyhow::Ok(start.elapsed());
                    }
                }
            }
        };
        let tainted = wait(Duration::from_secs(30), || async {
            let k = node_api.get(&node.name).await.ok()?;
            k.spec?
                .taints?
                .iter()
                .any(|t| t.key == TAINT_KEY && t.value.as_deref() == Some("untrusted"))
                .then(|| start.elapsed())
        });
        let emptied = wait(Duration::from_secs(30), || async {
            pods.list(&on_node)
                .await
                .ok()?
                .items
                .is_empty()
                .then(|| start.elapsed())
        });
        let (d, t, e) = tokio::join!(detected, tainted, emptied);
        detect.push(d?);
        taint.push(t.context("no taint")?);
        evict.push(e.context("pods left on the node")?);
        pods_evicted += here;
        // Out of the brake's count: this node reads unknown from now on.
        p.admin.unbind_node(host).await?;
    }
    ctl.abort();
    for a in agents {
        a.abort();
    }
    for v in [&mut detect, &mut taint, &mut evict] {
        v.sort();
    }
    println!(
        "nodes: {n} (kwok, real control plane v1.37.2); tampers: {n}; pods evicted: {pods_evicted}"
    );
    println!("agent PCR-10 watch every 500 ms; drain settle window 500 ms (the default)");
    println!("| from the tamper to | p50 ms | p90 ms | p99 ms | max ms | p99 × detection p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    let base = pct(&detect, 0.99);
    for (what, v) in [
        (
            "untrusted on the service's event stream (baseline)",
            &detect,
        ),
        ("the taint on the Node", &taint),
        ("the last pod evicted from the Node", &evict),
    ] {
        println!(
            "| {what} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
            ms(pct(v, 0.5)),
            ms(pct(v, 0.9)),
            ms(pct(v, 0.99)),
            ms(pct(v, 1.0)),
            pct(v, 0.99).as_secs_f64() / base.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}

/// Polls `f` every 10 ms until it gives a value, or `limit` passes.
async fn wait<T, F, Fut>(limit: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(v) = f().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}
