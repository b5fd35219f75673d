//! The evidence caches of many hosts, bounded: at most `max_hosts` caches and
//! `max_bytes` of retained logs (counted twice, for their parsed forms). When either
//! bound is passed, the least recently used caches are dropped. A dropped cache costs
//! only speed: that host's next attestation parses its logs from scratch.

use crate::cache::EvidenceCache;
use std::collections::{BTreeMap, HashMap};

/// Default bounds: room for the 100,000-node fleet one service is sized for
/// (docs/benchmarks.md), and about 1 GiB of logs and their parsed forms, so neither a
/// flood of hosts nor ever-growing IMA lists exhaust the service's memory. Past the byte
/// bound, hosts attesting in turn evict each other and are parsed afresh: slower, never
/// wrong.
pub const DEFAULT_MAX_HOSTS: usize = 131_072;
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024 * 1024;

#[derive(Debug)]
struct Slot {
    cache: EvidenceCache,
    /// Its key in `order`.
    used: u64,
    /// What it counts against `max_bytes`.
    bytes: usize,
}

/// Per-host [`EvidenceCache`]s by host id. A cache is taken out while its host is being
/// verified (so no lock is held meanwhile) and put back afterwards.
#[derive(Debug)]
pub struct EvidenceCaches {
    slots: HashMap<String, Slot>,
    /// Host ids by last use, oldest first.
    order: BTreeMap<u64, String>,
    clock: u64,
    bytes: usize,
    max_hosts: usize,
    max_bytes: usize,
}

impl Default for EvidenceCaches {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_HOSTS, DEFAULT_MAX_BYTES)
    }
}

impl EvidenceCaches {
    pub fn new(max_hosts: usize, max_bytes: usize) -> Self {
        EvidenceCaches {
            slots: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
            bytes: 0,
            max_hosts,
            max_bytes,
        }
    }

    /// Takes the host's cache out (an empty one if there is none).
    pub fn take(&mut self, host_id: &str) -> EvidenceCache {
        self.remove(host_id).unwrap_or_default()
    }

    /// Forgets the host's cache, e.g. when the host re-enrolled or was deleted.
    pub fn remove(&mut self, host_id: &str) -> Option<EvidenceCache> {
        let slot = self.slots.remove(host_id)?;
        self.order.remove(&slot.used);
        self.bytes -= slot.bytes;
        Some(slot.cache)
    }

    /// Puts the host's cache back as the most recently used, then drops the least
    /// recently used caches until both bounds hold. A cache larger than `max_bytes` on
    /// its own is not kept.
    pub fn put(&mut self, host_id: String, cache: EvidenceCache) {
        self.remove(&host_id);
        let bytes = cache.retained_bytes().saturating_mul(2);
        if bytes > self.max_bytes || self.max_hosts == 0 {
            return;
        }
        self.clock += 1;
        self.order.insert(self.clock, host_id.clone());
        self.bytes += bytes;
        self.slots.insert(
            host_id,
            Slot {
                cache,
                used: self.clock,
                bytes,
            },
        );
        while self.slots.len() > self.max_hosts || self.bytes > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(slot) = self.slots.remove(&oldest) {
                self.bytes -= slot.bytes;
            }
        }
    }

    /// How many hosts have a cache.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// What the caches count against `max_bytes`.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}
