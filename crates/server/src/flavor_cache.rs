//! Flavor groups and their parsed flavors, kept in memory between attestations so the
//! hot path neither queries nor parses them. A replica drops its copy whenever its own
//! admin API changes flavors or groups, and every copy is refreshed at least once a
//! second, so a change made through another replica takes effect there within a second.

use crate::error::ServiceError;
use crate::AppState;
use ironroot_verifier::{Flavor, FlavorGroup};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_AGE: Duration = Duration::from_secs(1);

type Entry = (Instant, Arc<FlavorGroup>, Arc<[Flavor]>);

#[derive(Default)]
pub(crate) struct FlavorCache {
    groups: Mutex<HashMap<String, Entry>>,
}

impl FlavorCache {
    /// Forgets every cached group (after a local change to flavors or groups).
    pub fn invalidate(&self) {
        self.groups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn fresh(&self, name: &str) -> Option<(Arc<FlavorGroup>, Arc<[Flavor]>)> {
        let map = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        map.get(name)
            .filter(|(at, _, _)| at.elapsed() < MAX_AGE)
            .map(|(_, g, f)| (g.clone(), f.clone()))
    }
}

/// The group `name` and its flavors, from memory when fresh, else from the database.
/// The same `Arc` is handed out while the copy is fresh, so the evidence cache can tell
/// "same flavors" by pointer.
pub(crate) async fn group_and_flavors(
    st: &AppState,
    name: &str,
) -> Result<(Arc<FlavorGroup>, Arc<[Flavor]>), ServiceError> {
    if let Some(hit) = st.flavor_cache.fresh(name) {
        return Ok(hit);
    }
    let group = Arc::new(crate::attest::load_group(st, name).await?);
    let flavors: Arc<[Flavor]> = crate::attest::load_flavors(st, name).await?.into();
    st.flavor_cache
        .groups
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            name.to_owned(),
            (Instant::now(), group.clone(), flavors.clone()),
        );
    Ok((group, flavors))
}
