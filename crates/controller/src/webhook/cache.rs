//! A small bounded cache with an age limit, for what the webhook looks up on every pod
//! (manifests by digest, tags to digests, key policies): the API server waits on each
//! answer, so repeated lookups must not go back to the registry or the broker, and a
//! stream of distinct images must not grow the process without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
    ttl: Option<Duration>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// Entries older than `ttl` are not returned (`None`: content-addressed, never stale);
    /// at most `capacity` entries are held.
    pub fn new(ttl: Option<Duration>, capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (at, v) = entries.get(key)?;
        self.fresh(*at).then(|| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (at, _)| self.fresh(*at));
            // Still full: drop the oldest entry (linear, but only on a full cache).
            if entries.len() >= self.capacity {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn fresh(&self, at: Instant) -> bool {
        self.ttl.is_none_or(|ttl| at.elapsed() < ttl)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let c = TtlCache::new(Some(Duration::from_millis(30)), 2);
        c.insert("a", 1);
        c.insert("b", 2);
        assert_eq!(
            (c.get(&"a"), c.get(&"b"), c.get(&"z")),
            (Some(1), Some(2), None)
        );
        c.insert("c", 3);
        assert_eq!(c.len(), 2, "the oldest entry made room");
        assert_eq!((c.get(&"a"), c.get(&"c")), (None, Some(3)));
        c.insert("c", 4);
        assert_eq!((c.len(), c.get(&"c")), (2, Some(4)));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&"c"), None, "expired");
        c.insert("d", 5);
        assert_eq!(c.len(), 1, "expired entries are dropped first");

        let forever = TtlCache::new(None, 1);
        forever.insert("x", 1);
        assert_eq!(forever.get(&"x"), Some(1));
    }
}
