//! Trust changes as events: a broadcast bus, the server-sent-event stream at
//! `GET /v1/events`, and the deadline sweeper that turns a missed attestation into an
//! `expired` event (fail closed: a trusted verdict is good only until its deadline).

mod tail;

use crate::error::ServiceError;
use crate::{now, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use ironroot_api::TrustEvent;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

pub(crate) use tail::run as tail_log;

/// A cursor over the trust-event log starting after `last` (for the store's tests).
#[cfg(test)]
pub(crate) fn tail_cursor(last: i64) -> tail::Cursor {
    tail::Cursor::starting_after(last)
}

/// Events buffered per subscriber; a subscriber that falls further behind is told so.
const BUS_CAPACITY: usize = 4096;
/// How often deadlines are checked: the bound on how late an expiry is announced.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// Most events replayed to a subscriber that resumes with `Last-Event-ID`; one further
/// behind is told it lagged and should re-read the host list.
const MAX_REPLAY: usize = 10_000;

/// A trust event and its position in the log (its SSE `id`).
#[derive(Debug, Clone)]
pub(crate) struct SeqEvent {
    pub seq: i64,
    pub event: Arc<TrustEvent>,
}

/// This replica's subscribers. Events reach it only through the log's tailer, so
/// subscribers see the changes of every replica, each once, in log order.
pub(crate) struct EventBus {
    tx: broadcast::Sender<SeqEvent>,
    poke: Notify,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            tx: broadcast::channel(BUS_CAPACITY).0,
            poke: Notify::new(),
        }
    }
}

impl EventBus {
    /// Tells the tailer that this replica just committed an event: read the log now
    /// rather than at the next tick.
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    async fn poked(&self) {
        self.poke.notified().await;
    }

    fn deliver(&self, e: SeqEvent) {
        // No subscribers is fine: the change is in the database either way.
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SeqEvent> {
        self.tx.subscribe()
    }
}

/// How often old reports are pruned, in sweeps, and how many at most per pass.
const PRUNE_EVERY_SWEEPS: u64 = 600;
const PRUNE_BATCH: u32 = 5_000;

/// Announces every trusted verdict whose deadline passed without a new attestation,
/// and prunes reports past the retention period. The database decides which replica
/// announces an expiry (each flips once), and the service's clock decides when: a
/// node's clock plays no part in deadlines. A database error here changes nothing: the
/// hosts stay as recorded and the next sweep tries again.
pub(crate) async fn sweep_deadlines(st: Arc<AppState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    let mut sweeps: u64 = 0;
    loop {
        tick.tick().await;
        sweeps += 1;
        match st.store.expire_lapsed(now()).await {
            Ok(lapsed) => {
                for l in &lapsed {
                    tracing::info!(host = %l.hostname, deadline = l.deadline, "trust expired: no passing attestation before the deadline");
                }
                if !lapsed.is_empty() {
                    st.events.poke();
                }
            }
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed; will retry"),
        }
        if sweeps.is_multiple_of(PRUNE_EVERY_SWEEPS) {
            st.limits.forget_idle();
            let cutoff = now().saturating_sub(st.config.report_retention_secs);
            match st.store.prune_reports(cutoff, PRUNE_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reports = n, "pruned reports past the retention period"),
                Err(e) => tracing::warn!(error = %e, "report pruning failed; will retry"),
            }
            match st.store.prune_events(cutoff, PRUNE_BATCH).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(events = n, "pruned trust events past the retention period")
                }
                Err(e) => tracing::warn!(error = %e, "event pruning failed; will retry"),
            }
            match st.store.prune_enrollments(now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(enrollments = n, "dropped unanswered enrollments past their expiry"),
                Err(e) => tracing::warn!(error = %e, "enrollment pruning failed; will retry"),
            }
        }
    }
}

/// `GET /v1/events`: server-sent events, one `trust` event per change, each with its
/// log position as `id`. A client that reconnects with `Last-Event-ID` first gets what
/// it missed from the log, then the live stream, each event once.
pub(crate) async fn stream(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServiceError> {
    crate::admin::require_admin(&st, &headers)?;
    let resume = last_event_id(&headers)?;
    // Subscribe before reading the log, so nothing falls between the two.
    let live = st.events.subscribe();
    let mut replay: Vec<Event> = Vec::new();
    let mut replayed = std::collections::HashSet::new();
    if let Some(mut after) = resume {
        loop {
            let page = st.store.events_after(after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                replayed.insert(e.seq);
                replay.push(trust_event(e.seq, &e.event));
            }
            if replay.len() >= MAX_REPLAY {
                replay.push(
                    Event::default()
                        .event("lagged")
                        .data("replay limit reached"),
                );
                break;
            }
        }
    }
    let live = BroadcastStream::new(live).filter_map(move |item| match item {
        Ok(e) if replayed.contains(&e.seq) => None,
        Ok(e) => Some(Ok(trust_event(e.seq, &e.event))),
        Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("lagged").data(n.to_string())))
        }
    });
    let events = tokio_stream::iter(replay.into_iter().map(Ok)).chain(live);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The `Last-Event-ID` a reconnecting client sends. Anything but an id is refused,
/// never taken for "from the start" or "from now".
fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, ServiceError> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| {
            ServiceError::BadRequest("Last-Event-ID must be an event id from this stream".into())
        })
}

fn trust_event(seq: i64, e: &TrustEvent) -> Event {
    Event::default()
        .event("trust")
        .id(seq.to_string())
        .json_data(e)
        .unwrap_or_else(|_| Event::default().event("error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "last-event-id",
            axum::http::HeaderValue::from_bytes(v).unwrap(),
        );
        h
    }

    #[test]
    fn last_event_id_is_an_id_or_refused() {
        assert_eq!(last_event_id(&HeaderMap::new()).unwrap(), None);
        assert_eq!(last_event_id(&headers(b" 42 ")).unwrap(), Some(42));
        assert_eq!(last_event_id(&headers(b"0")).unwrap(), Some(0));
        for bad in [&b"yesterday"[..], b"-1", b"", b"1e3", b"\xff"] {
            assert!(
                matches!(
                    last_event_id(&headers(bad)),
                    Err(ServiceError::BadRequest(_))
                ),
                "{bad:?}"
            );
        }
    }
}
