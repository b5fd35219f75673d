//! What the controller did to the Node of a host that lost trust (tainted it, started or
//! finished its drain, had its drain held by the brake), reported to the hub so the
//! host's trust-loss alert says which remediation was taken (docs/hub.md).
//!
//! The reconciler and the drainer only `try_send` into a bounded queue, so a slow or
//! absent hub never slows remediation itself; without a hub link there is no queue and
//! nothing is kept. The decisions are pure functions, tested on their own.

use crate::desired::{Desired, Observed, TaintEffect};
use crate::labels::TAINT_KEY;
use ironroot_api::{RemediationAction, RemediationReport, TrustState, MAX_REMEDIATION_DETAIL};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{Receiver, Sender};

/// How many reports wait for the hub at most (each Node yields a handful per loss of
/// trust; what overflows is counted and only the alert's wording misses it).
pub const REMEDIATION_QUEUE: usize = 1_000;

/// Reports on their way to the hub: bounded, never waited on.
#[derive(Debug, Clone)]
pub struct RemediationQueue {
    tx: Sender<RemediationReport>,
    dropped: Arc<AtomicU64>,
}

impl RemediationQueue {
    /// The queue and its receiving end (the hub part's reporter drains it).
    pub fn new() -> (RemediationQueue, Receiver<RemediationReport>) {
        let (tx, rx) = tokio::sync::mpsc::channel(REMEDIATION_QUEUE);
        let q = RemediationQueue {
            tx,
            dropped: Arc::default(),
        };
        (q, rx)
    }

    /// Queues `r` without waiting.
    pub fn push(&self, r: RemediationReport) {
        if self.tx.try_send(r).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Reports dropped because the queue was full (or nobody reads it).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Where the reconciler and the drainer report remediations: a no-op without a hub link.
#[derive(Debug, Clone, Default)]
pub struct Remediations {
    queue: Option<RemediationQueue>,
    /// Nodes whose held drain was reported during the current hold (once each).
    held: Arc<Mutex<HashSet<String>>>,
}

fn report(
    node: &str,
    host_id: &str,
    action: RemediationAction,
    detail: String,
) -> RemediationReport {
    let mut detail = detail;
    if detail.len() > MAX_REMEDIATION_DETAIL {
        let mut end = MAX_REMEDIATION_DETAIL;
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        detail.truncate(end);
    }
    RemediationReport {
        host_id: host_id.to_owned(),
        node: node.to_owned(),
        action,
        at: ironroot_timestamp::now_unix(),
        detail,
    }
}

/// The taint report for a patch of Node `node` that succeeded: when the host bound to it
/// lost trust (untrusted, expired) and the Node did not carry that taint before. An
/// `unknown` Node is tainted too, but no host lost trust there, so no alert awaits it.
pub fn taint_report(
    node: &str,
    before: &Observed,
    d: &Desired,
    effect: TaintEffect,
) -> Option<RemediationReport> {
    let trust = d.view.trust;
    if !matches!(trust, TrustState::Untrusted | TrustState::Expired) {
        return None;
    }
    let host_id = d.view.host_id.as_deref()?;
    let had = before
        .taints
        .iter()
        .any(|t| t["key"] == TAINT_KEY && t["value"] == trust.as_str());
    if had {
        return None;
    }
    let effect = if trust == TrustState::Untrusted {
        effect
    } else {
        TaintEffect::NoSchedule
    };
    let detail = format!("tainted {TAINT_KEY}={}:{}", trust.as_str(), effect.as_str());
    Some(report(node, host_id, RemediationAction::Taint, detail))
}

impl Remediations {
    pub fn new(queue: Option<RemediationQueue>) -> Remediations {
        Remediations {
            queue,
            held: Arc::default(),
        }
    }

    fn push(&self, r: RemediationReport) {
        if let Some(q) = &self.queue {
            q.push(r);
        }
    }

    /// After the reconciler's patch of `node` succeeded.
    pub fn patched(&self, node: &str, before: &Observed, d: &Desired, effect: TaintEffect) {
        if self.queue.is_some() {
            self.push_opt(taint_report(node, before, d, effect));
        }
    }

    fn push_opt(&self, r: Option<RemediationReport>) {
        if let Some(r) = r {
            self.push(r);
        }
    }

    /// A drain of `node` started (evictions through the Eviction API).
    pub fn drain_started(&self, node: &str, host_id: Option<&str>) {
        let Some(h) = host_id else { return };
        let detail = "drain started: evicting its pods through the Eviction API".to_owned();
        self.push(report(node, h, RemediationAction::Drain, detail));
    }

    /// The drain of `node` left no pod to evict.
    pub fn drain_finished(&self, node: &str, host_id: Option<&str>) {
        let Some(h) = host_id else { return };
        let detail = "drained: no pod left to evict".to_owned();
        self.push(report(node, h, RemediationAction::Drain, detail));
    }

    /// The brake as last assessed, with the untrusted Nodes (and their hosts) whose drain
    /// it holds: each is reported once per hold; a release forgets them.
    pub fn brake(&self, held: Option<(usize, usize)>, untrusted: &[(String, Option<String>)]) {
        let mut seen = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let Some((u, managed)) = held else {
            seen.clear();
            return;
        };
        seen.retain(|n| untrusted.iter().any(|(name, _)| name == n));
        for (node, host) in untrusted {
            let Some(h) = host else { continue };
            if seen.insert(node.clone()) {
                let detail = format!(
                    "drain held by the brake: {u} of {managed} nodes are untrusted at once"
                );
                self.push(report(node, h, RemediationAction::HeldByBrake, detail));
            }
        }
    }
}

#[cfg(test)]
#[path = "remediation_tests.rs"]
mod tests;
