//! The controller's memory: the service's view of every bound host, keyed by the Node
//! it is bound to, whether that view is current, and the Nodes marked for reconciling.
//!
//! Until the first full read from the service succeeds the controller knows nothing, and
//! acts on nothing: its own restart changes no Node.

use crate::desired::{decide, Desired, Facts};
use crate::view::{NodeView, NodeViews};
use ironroot_api::NodeTrust;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, RwLock};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    /// Node name -> the host bound to it.
    bound: HashMap<String, NodeTrust>,
    /// Host id -> the Node it is bound to.
    node_of: HashMap<String, String>,
    /// Node name -> its reported systemUUID (from the Node watch).
    uuids: HashMap<String, String>,
    /// The last full read succeeded, and the event stream has not been down for longer
    /// than the grace period since.
    current: bool,
    /// At least one full read succeeded since the controller started.
    synced: bool,
}

/// Shared by the service follower, the reconciler, the drainer and the webhook.
#[derive(Default)]
pub struct State {
    inner: RwLock<Inner>,
    dirty: Dirty,
}

impl State {
    /// Replaces the whole view with a full read; returns nothing, but marks every Node
    /// whose binding appeared, changed or vanished.
    pub fn replace_all(&self, list: Vec<NodeTrust>) {
        let mut changed = BTreeSet::new();
        {
            let mut g = self.write();
            let old = std::mem::take(&mut g.bound);
            g.node_of.clear();
            for nt in list {
                if old.get(&nt.node) != Some(&nt) {
                    changed.insert(nt.node.clone());
                }
                g.node_of.insert(nt.host_id.clone(), nt.node.clone());
                g.bound.insert(nt.node.clone(), nt);
            }
            for name in old.keys() {
                if !g.bound.contains_key(name) {
                    changed.insert(name.clone());
                }
            }
            let first = !g.synced || !g.current;
            g.synced = true;
            g.current = true;
            if first {
                // Coming back from not knowing: every Node may read differently now.
                drop(g);
                self.dirty.mark_all();
                return;
            }
        }
        self.dirty.mark(changed);
    }

    /// Applies one host's new facts (`None`: it was deleted or unbound).
    pub fn upsert(&self, host_id: &str, nt: Option<NodeTrust>) {
        let mut changed = BTreeSet::new();
        {
            let mut g = self.write();
            if let Some(old) = g.node_of.remove(host_id) {
                g.bound.remove(&old);
                changed.insert(old);
            }
            if let Some(nt) = nt {
                changed.insert(nt.node.clone());
                g.node_of.insert(host_id.to_owned(), nt.node.clone());
                // A Node bound to one host at a time (the service enforces it); a stale
                // entry for another host under the same name is dropped.
                if let Some(prev) = g.bound.insert(nt.node.clone(), nt) {
                    if prev.host_id != host_id {
                        g.node_of.remove(&prev.host_id);
                    }
                }
            }
        }
        self.dirty.mark(changed);
    }

    /// Records whether the service's view is current; marks every Node on a change.
    pub fn set_current(&self, current: bool) {
        let changed = {
            let mut g = self.write();
            let changed = g.synced && g.current != current;
            g.current = current;
            changed
        };
        if changed {
            self.dirty.mark_all();
        }
    }

    pub fn is_synced(&self) -> bool {
        self.read().synced
    }

    /// Records the systemUUID a Node reports.
    pub fn set_uuid(&self, node: &str, uuid: Option<&str>) {
        let mut g = self.write();
        match uuid {
            Some(u) => g.uuids.insert(node.to_owned(), u.to_owned()),
            None => g.uuids.remove(node),
        };
    }

    /// What Node `node` should say now, or `None` before the first full read (the
    /// controller does not act on what it does not know yet).
    pub fn desired(&self, node: &str, now: u64) -> Option<Desired> {
        let g = self.read();
        g.synced.then(|| {
            decide(Facts {
                bound: g.bound.get(node),
                system_uuid: g.uuids.get(node).map(String::as_str),
                service_current: g.current,
                now,
            })
        })
    }

    pub fn dirty(&self) -> &Dirty {
        &self.dirty
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl NodeViews for State {
    fn view(&self, node: &str) -> NodeView {
        self.desired(node, ironroot_timestamp::now_unix())
            .map(|d| d.view)
            .unwrap_or_else(|| NodeView::unknown("the controller has not read the service yet"))
    }
}

/// Nodes waiting to be reconciled, and a wake-up for the reconciler.
#[derive(Default)]
pub struct Dirty {
    set: Mutex<(bool, BTreeSet<String>)>,
    wake: Notify,
}

/// What the reconciler takes: every Node, or these.
#[derive(Debug, PartialEq, Eq)]
pub enum Batch {
    All,
    Some(BTreeSet<String>),
}

impl Dirty {
    pub fn mark(&self, nodes: impl IntoIterator<Item = String>) {
        let mut g = self.set.lock().unwrap_or_else(|p| p.into_inner());
        g.1.extend(nodes);
        if !g.1.is_empty() {
            self.wake.notify_one();
        }
    }

    pub fn mark_all(&self) {
        self.set.lock().unwrap_or_else(|p| p.into_inner()).0 = true;
        self.wake.notify_one();
    }

    /// Waits for work and takes all of it.
    pub async fn take(&self) -> Batch {
        loop {
            {
                let mut g = self.set.lock().unwrap_or_else(|p| p.into_inner());
                if std::mem::take(&mut g.0) {
                    g.1.clear();
                    return Batch::All;
                }
                if !g.1.is_empty() {
                    return Batch::Some(std::mem::take(&mut g.1));
                }
            }
            self.wake.notified().await;
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
