//! Draining untrusted Nodes through the Eviction API, which honours PodDisruptionBudgets,
//! behind the brake: drains start at a bounded rate and stop when too many Nodes are
//! untrusted at once (an alert is raised instead).
//!
//! Only `untrusted` drains: a failed attestation is evidence of a change. `unknown` (the
//! service unreachable, no binding, the controller just started) and `expired` (no
//! attestation came: perhaps only the agent stopped) stop new scheduling and never evict.

use crate::brake::{Brake, BrakeState, DrainVerdict};
use crate::state::State;
use ironroot_api::TrustState;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, EvictParams, ListParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::Store;
use kube::Resource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How often the drainer looks at the Nodes, and how often a drain retries pods a
/// disruption budget protected.
const TICK: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(2);

pub struct Drainer {
    pub client: kube::Client,
    pub nodes: Store<Node>,
    pub state: Arc<State>,
    pub brake: Arc<Mutex<Brake>>,
    pub recorder: Recorder,
    pub enabled: bool,
    /// How long a Node must have been untrusted before its drain starts: a mass flip
    /// arrives over some moments, and is judged whole by the brake before anything is
    /// evicted.
    pub settle: Duration,
    /// Where drains and held drains are reported for the hub.
    pub remediations: crate::remediation::Remediations,
}

impl Drainer {
    /// Runs forever: assesses the brake, starts drains as it allows, stops the drains of
    /// Nodes that are no longer untrusted.
    pub async fn run(self) {
        let _ = self.nodes.wait_until_ready().await;
        let this = Arc::new(self);
        let mut draining = Drains::default();
        let mut untrusted_since: HashMap<String, Instant> = HashMap::new();
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let now = ironroot_timestamp::now_unix();
            let nodes = this.nodes.state();
            let mut untrusted = Vec::new();
            for n in &nodes {
                let Some(name) = n.metadata.name.as_deref() else {
                    continue;
                };
                match this.state.desired(name, now) {
                    Some(d) if d.view.trust == TrustState::Untrusted => untrusted.push(n.clone()),
                    _ => {}
                }
            }
            untrusted_since.retain(|name, _| {
                untrusted
                    .iter()
                    .any(|n| n.metadata.name.as_deref() == Some(name.as_str()))
            });
            for n in &untrusted {
                if let Some(name) = &n.metadata.name {
                    untrusted_since
                        .entry(name.clone())
                        .or_insert_with(Instant::now);
                }
            }
            let change = this.lock_brake().assess(untrusted.len(), nodes.len());
            if let Some(s) = change {
                this.alert(s, &untrusted).await;
                this.state.dirty().mark_all(); // the taint's effect depends on the brake
            }
            if this.enabled {
                this.report_brake(&untrusted, now);
            }
            draining.0.retain(|name, h| {
                let keep = !h.is_finished()
                    && untrusted
                        .iter()
                        .any(|n| n.metadata.name.as_deref() == Some(name.as_str()));
                if !keep {
                    h.abort();
                }
                keep
            });
            if !this.enabled {
                continue;
            }
            for n in untrusted {
                let Some(name) = n.metadata.name.clone() else {
                    continue;
                };
                let settled = untrusted_since
                    .get(&name)
                    .is_some_and(|t| t.elapsed() >= this.settle);
                if draining.0.contains_key(&name) || !settled {
                    continue;
                }
                match this.lock_brake().take(Instant::now()) {
                    DrainVerdict::Start => {}
                    DrainVerdict::Later(_) | DrainVerdict::Held => break,
                }
                tracing::warn!(node = %name, "draining an untrusted node");
                let host = this.host_of(&name);
                this.remediations.drain_started(&name, host.as_deref());
                this.note(
                    &n,
                    EventType::Warning,
                    "DrainStarted",
                    "the node is untrusted: evicting its pods",
                )
                .await;
                let me = this.clone();
                draining.0.insert(
                    name.clone(),
                    tokio::spawn(async move { me.drain(name).await }),
                );
            }
        }
    }

    fn lock_brake(&self) -> std::sync::MutexGuard<'_, Brake> {
        self.brake.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The host bound to `node`, as the controller last heard from the service.
    fn host_of(&self, node: &str) -> Option<String> {
        let now = ironroot_timestamp::now_unix();
        self.state.desired(node, now).and_then(|d| d.view.host_id)
    }

    /// Reports the drains the brake holds (each Node once per hold).
    fn report_brake(&self, untrusted: &[Arc<Node>], now: u64) {
        let held = match self.lock_brake().state() {
            BrakeState::Held { untrusted, managed } => Some((untrusted, managed)),
            BrakeState::Released => None,
        };
        let nodes: Vec<(String, Option<String>)> = match held {
            None => Vec::new(),
            Some(_) => untrusted
                .iter()
                .filter_map(|n| n.metadata.name.clone())
                .map(|name| {
                    let host = self.state.desired(&name, now).and_then(|d| d.view.host_id);
                    (name, host)
                })
                .collect(),
        };
        self.remediations.brake(held, &nodes);
    }

    /// Evicts every pod on `node` that should leave, again and again while the Node is
    /// untrusted (pods a budget protects go when the budget allows; pods bound there by
    /// hand despite the webhook go too).
    async fn drain(&self, node: String) {
        let pods: Api<Pod> = Api::all(self.client.clone());
        let lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
        let mut finished = false;
        loop {
            if matches!(self.lock_brake().state(), BrakeState::Held { .. }) {
                tokio::time::sleep(RETRY).await;
                continue;
            }
            match pods.list(&lp).await {
                Ok(list) => {
                    let leaving: Vec<&Pod> =
                        list.items.iter().filter(|p| should_leave(p)).collect();
                    if leaving.is_empty() && !finished {
                        finished = true;
                        let host = self.host_of(&node);
                        self.remediations.drain_finished(&node, host.as_deref());
                    }
                    let evictions = leaving.into_iter().map(|p| self.evict(p));
                    futures_util::future::join_all(evictions).await;
                }
                Err(e) => {
                    tracing::warn!(node = %node, error = %e, "cannot list the node's pods; will retry")
                }
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    async fn evict(&self, pod: &Pod) {
        let (Some(ns), Some(name)) = (
            pod.metadata.namespace.as_deref(),
            pod.metadata.name.as_deref(),
        ) else {
            return;
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        match api.evict(name, &EvictParams::default()).await {
            Ok(_) => tracing::info!(namespace = ns, pod = name, "evicted"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            // 429: a PodDisruptionBudget does not allow it now; the next round retries.
            Err(kube::Error::Api(e)) if e.code == 429 => {
                tracing::info!(
                    namespace = ns,
                    pod = name,
                    "eviction deferred by a disruption budget"
                )
            }
            Err(e) => {
                tracing::warn!(namespace = ns, pod = name, error = %e, "eviction failed; will retry")
            }
        }
    }

    async fn alert(&self, s: BrakeState, untrusted: &[Arc<Node>]) {
        match s {
            BrakeState::Held {
                untrusted: u,
                managed,
            } => {
                tracing::error!(untrusted = u, managed, "ALERT: too many nodes untrusted at once; drains are held (a mass reboot, a service outage or a bad flavor push looks like this). Check `ironroot host list`");
                for n in untrusted {
                    let note = format!("{u} of {managed} nodes are untrusted at once: drains are held until fewer are");
                    self.note(n, EventType::Warning, "DrainHeld", &note).await;
                }
            }
            BrakeState::Released => {
                tracing::warn!("the share of untrusted nodes fell: drains resume")
            }
        }
    }

    async fn note(&self, node: &Node, kind: EventType, reason: &str, note: &str) {
        let ev = Event {
            type_: kind,
            reason: reason.into(),
            note: Some(note.into()),
            action: "Drain".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &node.object_ref(&())).await {
            tracing::warn!(error = %e, "cannot record a Kubernetes event");
        }
    }
}

/// The running drains, one task per Node; stopped when the drainer stops (a controller
/// stopped in-process, or restarted, leaves no drain behind).
#[derive(Default)]
struct Drains(HashMap<String, JoinHandle<()>>);

impl Drop for Drains {
    fn drop(&mut self) {
        for h in self.0.values() {
            h.abort();
        }
    }
}

/// Whether a pod on an untrusted Node should be evicted: not a mirror pod (the kubelet
/// owns it), not one a DaemonSet would put straight back (the ironroot agent among them:
/// it must stay to attest again), and not already terminating.
pub fn should_leave(p: &Pod) -> bool {
    let m = &p.metadata;
    let mirror = m
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
    let daemon = m
        .owner_references
        .as_ref()
        .is_some_and(|o| o.iter().any(|r| r.kind == "DaemonSet"));
    let done = p
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|ph| ph == "Succeeded" || ph == "Failed");
    !(mirror || daemon || done || m.deletion_timestamp.is_some())
}
