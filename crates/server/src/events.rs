//! Trust changes as events: a broadcast bus, the server-sent-event stream at
//! `GET /v1/events`, and the deadline sweeper that turns a missed attestation into an
//! `expired` event (fail closed: a trusted verdict is good only until its deadline).

use crate::error::ServiceError;
use crate::{now, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use ironroot_api::{TrustEvent, TrustState};
use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

/// Events buffered per subscriber; a subscriber that falls further behind is told so.
const BUS_CAPACITY: usize = 4096;
/// How often deadlines are checked: the bound on how late an expiry is announced.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

pub(crate) struct EventBus {
    tx: broadcast::Sender<TrustEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            tx: broadcast::channel(BUS_CAPACITY).0,
        }
    }
}

impl EventBus {
    pub fn publish(&self, e: TrustEvent) {
        tracing::info!(host = %e.hostname, from = e.previous.as_str(), to = e.trust.as_str(), "trust changed");
        // No subscribers is fine: the change is in the database either way.
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TrustEvent> {
        self.tx.subscribe()
    }
}

/// Deadlines of trusted verdicts, soonest first.
#[derive(Default)]
pub(crate) struct Deadlines {
    inner: Mutex<DeadlineIndex>,
}

#[derive(Default)]
struct DeadlineIndex {
    by_host: HashMap<String, (u64, String)>,
    queue: BTreeSet<(u64, String)>,
}

/// A trusted verdict whose deadline passed.
pub(crate) struct Lapsed {
    pub host_id: String,
    pub hostname: String,
    pub deadline: u64,
}

impl Deadlines {
    /// Records the deadline of `host_id`'s trusted verdict, replacing any earlier one.
    pub fn set(&self, host_id: &str, hostname: &str, deadline: u64) {
        let mut idx = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((old, _)) = idx.by_host.remove(host_id) {
            idx.queue.remove(&(old, host_id.to_owned()));
        }
        idx.by_host
            .insert(host_id.to_owned(), (deadline, hostname.to_owned()));
        idx.queue.insert((deadline, host_id.to_owned()));
    }

    /// Forgets `host_id`'s deadline (its verdict is no longer trusted).
    pub fn clear(&self, host_id: &str) {
        let mut idx = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((old, _)) = idx.by_host.remove(host_id) {
            idx.queue.remove(&(old, host_id.to_owned()));
        }
    }

    /// Removes and returns every deadline at or before `now`.
    pub fn take_lapsed(&self, now: u64) -> Vec<Lapsed> {
        let mut idx = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        while let Some((deadline, host_id)) = idx.queue.first().cloned() {
            if deadline > now {
                break;
            }
            idx.queue.pop_first();
            let hostname = idx
                .by_host
                .remove(&host_id)
                .map(|(_, n)| n)
                .unwrap_or_default();
            out.push(Lapsed {
                host_id,
                hostname,
                deadline,
            });
        }
        out
    }
}

/// Loads the deadlines of every host whose latest verdict is trusted (at start-up, so a
/// restarted service resumes every node's deadline from the database).
pub(crate) async fn restore_deadlines(st: &AppState) -> Result<usize, crate::store::StoreError> {
    let mut n = 0;
    for h in st.store.hosts().await? {
        if let Some(r) = st.store.latest_report(&h.host_id).await? {
            if r.trusted {
                st.deadlines.set(&h.host_id, &h.hostname, r.expires);
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Announces every trusted verdict whose deadline passed without a new attestation.
/// The service's clock decides: a node's clock plays no part in deadlines.
pub(crate) async fn sweep_deadlines(st: Arc<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        if ticks.is_multiple_of(600) {
            st.limits.forget_idle();
        }
        for l in st.deadlines.take_lapsed(now()) {
            st.events.publish(TrustEvent {
                host_id: l.host_id,
                hostname: l.hostname,
                previous: TrustState::Trusted,
                trust: TrustState::Expired,
                at: now(),
                report_id: None,
                report_jws: None,
                reasons: vec![format!(
                    "no passing attestation before the deadline ({})",
                    l.deadline
                )],
            });
        }
    }
}

/// `GET /v1/events`: server-sent events, one `trust` event per change.
pub(crate) async fn stream(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServiceError> {
    crate::admin::require_admin(&st, &headers)?;
    let events = BroadcastStream::new(st.events.subscribe()).map(|item| {
        Ok(match item {
            Ok(e) => Event::default()
                .event("trust")
                .json_data(&e)
                .unwrap_or_else(|_| Event::default().event("error")),
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_lapse_in_order_and_can_be_replaced_or_cleared() {
        let d = Deadlines::default();
        d.set("a", "node-a", 10);
        d.set("b", "node-b", 5);
        d.set("c", "node-c", 7);
        d.set("c", "node-c", 20); // a new trusted verdict moves the deadline
        d.clear("b"); // an untrusted verdict removes it
        assert!(d.take_lapsed(4).is_empty());
        let lapsed: Vec<String> = d.take_lapsed(15).into_iter().map(|l| l.host_id).collect();
        assert_eq!(lapsed, vec!["a"]);
        assert!(d.take_lapsed(15).is_empty(), "each deadline lapses once");
        assert_eq!(d.take_lapsed(20).len(), 1);
    }
}
