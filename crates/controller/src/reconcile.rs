//! Making each Node say what the controller decided: a watch of the Nodes (a kube-rs
//! reflector), and one merge patch per Node that differs. A Node edited by anyone else
//! (its kubelet rewriting our annotations, an administrator removing the taint) is put
//! back on the next watch event.

use crate::brake::BrakeState;
use crate::desired::{patch, Observed, TaintEffect};
use crate::state::{Batch, State};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Field manager name on every write (shows in `managedFields`).
pub const MANAGER: &str = "ironroot-controller";

/// Watches the Nodes the controller manages, recording each Node's systemUUID and
/// marking it for reconciling whenever it changes. Returns the reflector's store.
pub fn watch_nodes(
    api: Api<Node>,
    selector: Option<String>,
    state: Arc<State>,
) -> (Store<Node>, impl std::future::Future<Output = ()>) {
    let (reader, writer) = reflector::store();
    let mut cfg = watcher::Config::default();
    if let Some(s) = selector {
        cfg = cfg.labels(&s);
    }
    let stream = reflector::reflector(writer, watcher::watcher(api, cfg))
        .default_backoff()
        .touched_objects();
    let task = async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            match item {
                Ok(node) => {
                    let name = node.metadata.name.clone().unwrap_or_default();
                    let uuid = node
                        .status
                        .as_ref()
                        .and_then(|s| s.node_info.as_ref())
                        .map(|i| i.system_uuid.clone());
                    state.set_uuid(&name, uuid.as_deref());
                    state.dirty().mark([name]);
                }
                Err(e) => tracing::warn!(error = %e, "watching Nodes failed; retrying"),
            }
        }
    };
    (reader, task)
}

/// The Node as the patch logic sees it.
pub fn observed(node: &Node) -> Observed {
    let m = &node.metadata;
    Observed {
        resource_version: m.resource_version.clone(),
        labels: m.labels.clone().unwrap_or_default(),
        annotations: m.annotations.clone().unwrap_or_default(),
        taints: node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| serde_json::to_value(t).ok())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Settings of the reconciler.
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    /// The taint's effect on untrusted Nodes while the brake is released.
    pub untrusted_effect: TaintEffect,
    /// Where a taint applied to a Node whose host lost trust is reported.
    pub remediations: crate::remediation::Remediations,
}

/// Reconciles the marked Nodes, forever.
pub async fn run(
    api: Api<Node>,
    store: Store<Node>,
    state: Arc<State>,
    brake: Arc<Mutex<crate::brake::Brake>>,
    cfg: ReconcileConfig,
) {
    // Nothing is written before the Node list is known.
    let _ = store.wait_until_ready().await;
    loop {
        let names: Vec<String> = match state.dirty().take().await {
            Batch::All => store
                .state()
                .iter()
                .filter_map(|n| n.metadata.name.clone())
                .collect(),
            Batch::Some(s) => s.into_iter().collect(),
        };
        let held = matches!(
            brake.lock().unwrap_or_else(|p| p.into_inner()).state(),
            BrakeState::Held { .. }
        );
        // NoExecute empties a Node ignoring disruption budgets: never while the brake holds.
        let effect = if held {
            TaintEffect::NoSchedule
        } else {
            cfg.untrusted_effect
        };
        let mut retry = Vec::new();
        for name in names {
            let Some(node) = store.get(&ObjectRef::new(&name)) else {
                continue; // not a Node we manage (or it is gone)
            };
            let Some(d) = state.desired(&name, ironroot_timestamp::now_unix()) else {
                continue; // the service has not been read yet
            };
            let before = observed(&node);
            let Some(p) = patch(&before, &d, effect) else {
                continue;
            };
            let params = PatchParams {
                field_manager: Some(MANAGER.into()),
                ..PatchParams::default()
            };
            match api.patch(&name, &params, &Patch::Merge(&p)).await {
                Ok(_) => {
                    tracing::info!(node = %name, trust = %d.view.trust, "node updated");
                    cfg.remediations.patched(&name, &before, &d, effect);
                }
                // 409: the Node changed since the watch showed it; the watch event
                // that follows marks it again.
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    tracing::warn!(node = %name, error = %e, "cannot update the node; will retry");
                    retry.push(name);
                }
            }
        }
        if !retry.is_empty() {
            let state = state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                state.dirty().mark(retry);
            });
        }
    }
}
