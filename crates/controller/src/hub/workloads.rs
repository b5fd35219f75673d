//! The workload↔node records of the audit trail (docs/audit.md, `workload.bound`): a
//! watch of the pods bound to a Node, and, once a pod runs there, one record of it (its
//! namespace, name, UID, Node and its containers' image digests) sent to the hub in
//! batches. The hub adds the trust of the host bound to that Node at receipt.
//!
//! A pod is reported when it has run: every container reports an `imageID`, or the pod
//! is Running, Succeeded or Failed (a runtime that reports no digest, as kwok, gives a
//! record with the digests it has, possibly none). It is reported again only when its
//! Node or digests change (an image changed in place). A restarted controller reports
//! its running pods once more. The watch waits for the hub (a bounded queue, awaited):
//! it is not on the admission path, so nothing is dropped while the hub is away.

use super::{Delivery, Hub, HubStats};
use crate::hub::unix_now;
use futures_util::StreamExt;
use ironroot_api::{
    image_digest, WorkloadBatch, WorkloadBinding, WorkloadImage, MAX_IMAGE_REF, MAX_WORKLOAD_BATCH,
    MAX_WORKLOAD_IMAGES,
};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::Api;
use kube::runtime::{watcher, WatchStreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, Receiver, Sender};

/// How long a first record waits for others to share its batch: the bound on how much
/// later than the binding the hub reads the Node's trust, while it is reachable.
pub const GATHER: Duration = Duration::from_secs(1);
/// Records waiting for the hub before the watch pauses.
const QUEUE: usize = 4096;
/// A batch's JSON stays well under the hub's 4 MiB body limit.
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);

fn cut(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    let mut end = clean.len().min(max);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].to_owned()
}

/// The record of `pod` once it has run on its Node; `None` before (unbound, or still
/// pulling its images), or for an object the API server would not hold (no name).
pub fn record_of(pod: &Pod, now: u64) -> Option<WorkloadBinding> {
    let m = &pod.metadata;
    let spec = pod.spec.as_ref()?;
    let node = spec.node_name.clone().filter(|n| !n.is_empty())?;
    let status = pod.status.as_ref();
    let statuses: Vec<&ContainerStatus> = status
        .into_iter()
        .flat_map(|s| {
            let lists = [
                &s.init_container_statuses,
                &s.container_statuses,
                &s.ephemeral_container_statuses,
            ];
            lists.into_iter().flatten().flatten()
        })
        .collect();
    let named: Vec<(&str, &str)> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| (c.name.as_str(), c.image.as_deref().unwrap_or("")))
        .collect();
    let digest_of = |name: &str| {
        statuses
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| image_digest(&s.image_id))
    };
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let all_digests = !named.is_empty() && named.iter().all(|(n, _)| digest_of(n).is_some());
    if !all_digests && !matches!(phase, "Running" | "Succeeded" | "Failed") {
        return None;
    }
    let images = named
        .iter()
        .take(MAX_WORKLOAD_IMAGES)
        .map(|(name, spec_image)| {
            let shown = statuses
                .iter()
                .find(|s| s.name == *name)
                .map(|s| s.image.as_str())
                .filter(|i| !i.is_empty())
                .unwrap_or(spec_image);
            WorkloadImage {
                container: (*name).to_owned(),
                image: cut(shown, MAX_IMAGE_REF),
                digest: digest_of(name).map(str::to_owned),
            }
        })
        .filter(|i| !i.image.is_empty())
        .collect();
    Some(WorkloadBinding {
        namespace: m.namespace.clone()?,
        pod: m.name.clone()?,
        uid: m.uid.clone()?,
        node,
        images,
        at: now,
    })
}

/// What makes a record new: its Node and digests (not the time it was seen).
fn fingerprint(w: &WorkloadBinding) -> String {
    let digests: Vec<&str> = w
        .images
        .iter()
        .map(|i| i.digest.as_deref().unwrap_or("-"))
        .collect();
    format!("{}|{}", w.node, digests.join(","))
}

/// The pods reported, by UID, with what was reported: so a pod is reported once per
/// change, and a deleted pod is forgotten.
#[derive(Debug, Default)]
pub struct Seen {
    reported: HashMap<String, String>,
    /// The UIDs listed since the watch (re)started, while it lists.
    listing: Option<HashSet<String>>,
}

impl Seen {
    /// The record to send for this watch event, if any.
    pub fn on_event(&mut self, e: watcher::Event<Pod>, now: u64) -> Option<WorkloadBinding> {
        match e {
            watcher::Event::Init => {
                self.listing = Some(HashSet::new());
                None
            }
            watcher::Event::InitDone => {
                if let Some(listed) = self.listing.take() {
                    self.reported.retain(|uid, _| listed.contains(uid));
                }
                None
            }
            watcher::Event::Delete(pod) => {
                if let Some(uid) = &pod.metadata.uid {
                    self.reported.remove(uid);
                }
                None
            }
            watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) => {
                if let (Some(listing), Some(uid)) = (&mut self.listing, &pod.metadata.uid) {
                    listing.insert(uid.clone());
                }
                let w = record_of(&pod, now)?;
                let print = fingerprint(&w);
                if self.reported.get(&w.uid) == Some(&print) {
                    return None;
                }
                self.reported.insert(w.uid.clone(), print);
                Some(w)
            }
        }
    }
}

/// Watches every pod bound to a Node and sends each record to `tx`.
async fn watch(kube: kube::Client, tx: Sender<WorkloadBinding>) {
    let api: Api<Pod> = Api::all(kube);
    let cfg = watcher::Config::default().fields("spec.nodeName!=");
    let mut stream = std::pin::pin!(watcher::watcher(api, cfg).default_backoff());
    let mut seen = Seen::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => {
                if let Some(w) = seen.on_event(e, unix_now()) {
                    if tx.send(w).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "watching pods failed; retrying"),
        }
    }
}

/// The next batch: one record, and what else arrives within [`GATHER`], up to the
/// batch's count and byte limits. `None` when the queue is closed and empty.
pub async fn gather(rx: &mut Receiver<WorkloadBinding>) -> Option<WorkloadBatch> {
    let first = rx.recv().await?;
    let size = |w: &WorkloadBinding| serde_json::to_vec(w).map_or(MAX_BATCH_BYTES, |v| v.len());
    let mut bytes = size(&first);
    let mut workloads = vec![first];
    let deadline = tokio::time::Instant::now() + GATHER;
    while workloads.len() < MAX_WORKLOAD_BATCH && bytes < MAX_BATCH_BYTES / 2 {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(w)) => {
                bytes += size(&w);
                workloads.push(w);
            }
            Ok(None) | Err(_) => break,
        }
    }
    Some(WorkloadBatch { workloads })
}

/// Posts `batch` until the hub answers it, waiting longer after each failure; a batch
/// the hub refuses for good is dropped, with a warning.
pub async fn send(hub: &dyn Hub, batch: &WorkloadBatch, stats: &HubStats) {
    let mut wait = FIRST_RETRY;
    let n = batch.workloads.len() as u64;
    loop {
        match hub.report_workloads(batch).await {
            Ok(Delivery::Taken { .. }) => {
                HubStats::add(&stats.workloads_sent, n);
                return;
            }
            Ok(Delivery::Refused(why)) => {
                HubStats::add(&stats.workloads_refused, n);
                tracing::warn!(records = n, reason = %why, "the hub refused a batch of workload records; dropped");
                return;
            }
            Err(e) => {
                HubStats::add(&stats.workload_batches_failed, 1);
                tracing::warn!(error = %e, records = n, retry_in = ?wait,
                    "the hub did not take a batch of workload records");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Watches the pods and reports them to `hub` until the task is dropped.
pub async fn run(kube: kube::Client, hub: Arc<dyn Hub>, stats: Arc<HubStats>) {
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let reporter = async move {
        while let Some(batch) = gather(&mut rx).await {
            send(hub.as_ref(), &batch, &stats).await;
        }
    };
    tokio::join!(watch(kube, tx), reporter);
}
