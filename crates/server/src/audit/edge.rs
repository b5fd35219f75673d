//! The log's right edge (the [`Frontier`]) as this process last appended it, so that an
//! append on the attestation path reads one row (the last entry) instead of the tree's
//! O(log n) edge subtrees each time. Every verdict batch appends, and on SQLite each
//! statement is a round trip to the connection's worker thread: the lookup was a third
//! of what logging a trust decision cost.
//!
//! The copy is only a guess: an append checks it against the database (the last entry's
//! index and leaf hash, read under the log's lock) and loads the edge from the stored
//! subtrees whenever they differ: after another writer appended, after a transaction
//! that appended was rolled back, after any change made behind the service's back. Only
//! SQLite's store keeps one (one process writes it); PostgreSQL replicas share the log,
//! and each of their appends loads the edge.

use ironroot_tlog::merkle::{Frontier, Hash};
use std::sync::Mutex;

/// The edge after the last append: the frontier and the last leaf it took.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub frontier: Frontier,
    pub last_leaf: Option<Hash>,
}

#[derive(Debug, Default)]
pub(crate) struct EdgeCache(Mutex<Option<Edge>>);

impl EdgeCache {
    /// The cached edge if it is the one of a log of `size` entries ending with
    /// `last_leaf`, as the database says.
    pub(super) fn matching(&self, size: u64, last_leaf: Option<&Hash>) -> Option<Frontier> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|e| e.frontier.size() == size && e.last_leaf.as_ref() == last_leaf)
            .map(|e| e.frontier.clone())
    }

    /// Remembers the edge an append left (whether or not its transaction commits: the
    /// next append checks).
    pub(super) fn keep(&self, edge: Edge) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(edge);
    }
}
