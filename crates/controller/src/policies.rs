//! The seam between the parts that enforce policies (the admission webhook, the
//! background audit) and the part that brings them (a local file, or the hub's signed
//! bundle): the policy set in force, the facts a decision is made from, and the queue of
//! violations on their way to the hub.
//!
//! The policy set is swapped whole: a review or an audit pass reads one [`Active`] and
//! judges with it from start to end, even if a new bundle arrives meanwhile.

use crate::webhook::BoxFuture;
use ironroot_api::ViolationEvent;
use ironroot_policy::{Facts, PolicySet};
use k8s_openapi::api::core::v1::Pod;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A policy set in force, and where it came from.
#[derive(Debug)]
pub struct Active {
    pub set: PolicySet,
    /// The cluster's name, the one policy scopes match.
    pub cluster: String,
    /// The hub's bundle version (the set's own `version` for a local file).
    pub version: u64,
}

/// The policy set in force; `None` until one is loaded (the webhook then applies only its
/// placement rules, as before governance).
#[derive(Debug, Default)]
pub struct Policies {
    current: RwLock<Option<Arc<Active>>>,
}

impl Policies {
    pub fn new(initial: Option<Active>) -> Policies {
        Policies {
            current: RwLock::new(initial.map(Arc::new)),
        }
    }

    /// The set in force now.
    pub fn current(&self) -> Option<Arc<Active>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            // A writer panicked mid-swap: the value is still a whole Arc.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `next` in force.
    pub fn replace(&self, next: Active) {
        let next = Some(Arc::new(next));
        match self.current.write() {
            Ok(mut g) => *g = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

/// Gathers the [`Facts`] policies judge a pod by (registry, broker, signatures, scans, the
/// Node), each lookup bounded by `deadline`; what could not be learnt in time stays
/// `None` (unknown), never a guess.
pub trait FactSource: Send + Sync + 'static {
    fn facts<'a>(&'a self, pod: &'a Pod, deadline: Duration) -> BoxFuture<'a, Facts>;
}

/// Violations on their way to the hub. Bounded: when the hub is slow the oldest are kept
/// and new ones counted as dropped (the background audit finds them again).
#[derive(Debug, Clone)]
pub struct ViolationQueue {
    tx: tokio::sync::mpsc::Sender<ViolationEvent>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

/// How many violations wait for the hub at most.
pub const VIOLATION_QUEUE: usize = 10_000;

impl ViolationQueue {
    /// The queue and its receiving end (the hub reporter drains it).
    pub fn new() -> (ViolationQueue, tokio::sync::mpsc::Receiver<ViolationEvent>) {
        let (tx, rx) = tokio::sync::mpsc::channel(VIOLATION_QUEUE);
        let q = ViolationQueue {
            tx,
            dropped: Arc::default(),
        };
        (q, rx)
    }

    /// Queues `v` without waiting.
    pub fn push(&self, v: ViolationEvent) {
        if self.tx.try_send(v).is_err() {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Violations dropped because the queue was full (or nobody reads it).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_set_is_seen_whole_and_an_old_reader_keeps_its_own() {
        let p = Policies::new(None);
        assert!(p.current().is_none());
        p.replace(Active {
            set: PolicySet::empty(1),
            cluster: "east".into(),
            version: 1,
        });
        let held = p.current().unwrap();
        p.replace(Active {
            set: PolicySet::empty(2),
            cluster: "east".into(),
            version: 2,
        });
        assert_eq!(held.version, 1);
        assert_eq!(p.current().unwrap().version, 2);
    }

    #[test]
    fn a_full_queue_counts_what_it_drops() {
        let (q, rx) = ViolationQueue::new();
        drop(rx);
        q.push(ViolationEvent {
            policy: "p".into(),
            object: ironroot_api::ObjectRef {
                namespace: "ns".into(),
                kind: "Pod".into(),
                name: "a".into(),
            },
            message: "m".into(),
            action: ironroot_api::ViolationAction::Denied,
            at: 1,
        });
        assert_eq!(q.dropped(), 1);
    }
}
