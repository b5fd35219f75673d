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
/// Most events, and most bytes of their JSON, replayed to a subscriber that resumes
/// with `Last-Event-ID`; one further behind is told it lagged and should re-read the
/// host list. Both bound what one stream holds before it sends anything (an event
/// carries its failure reasons, so a count alone does not bound the bytes).
const MAX_REPLAY: usize = 10_000;
const MAX_REPLAY_BYTES: usize = 4 * 1024 * 1024;
/// Events read from the log per query while replaying: small, since one event can carry
/// a long signed report, and a page is held whole before the budget is applied to it.
const REPLAY_PAGE: u32 = 100;

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
/// and prunes reports, trust events and key release-log records past their retention
/// periods. The database decides which replica
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
            let releases_cutoff = now().saturating_sub(st.config.release_log_retention_secs);
            match st.store.prune_releases(releases_cutoff, PRUNE_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    releases = n,
                    "pruned key release-log records past their retention period"
                ),
                Err(e) => tracing::warn!(error = %e, "release-log pruning failed; will retry"),
            }
            // Hosts left unactivated by services before 0005 (some were activated hosts
            // that an enrollment request reset) keep their tags for the retention period,
            // so that their agents can come back to them.
            let pending_cutoff = cutoff;
            match st.store.prune_enrollments(now(), pending_cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    enrollments = n,
                    "dropped unanswered enrollments past their expiry"
                ),
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
    principal: crate::identity::Principal,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ServiceError> {
    // A caller of an organisation hears only of its hosts: each event's host is looked up
    // when it is sent, so a host given to another organisation goes quiet at once.
    let org = principal.org.clone();
    let resume = last_event_id(&headers)?;
    // Subscribe before reading the log, so nothing falls between the two.
    let live = st.events.subscribe();
    let mut replay = Replay::new(MAX_REPLAY, MAX_REPLAY_BYTES);
    if let Some(mut after) = resume {
        'pages: loop {
            let page = st.store.events_after(after, REPLAY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                if !ours(&st, org.as_deref(), &e.event.host_id).await? {
                    continue;
                }
                if !replay.push(e.seq, &e.event) {
                    break 'pages;
                }
            }
        }
    }
    let (replay, replayed) = replay.finish();
    let live_st = st.clone();
    let live = BroadcastStream::new(live)
        .then(move |item| {
            let (st, org) = (live_st.clone(), org.clone());
            async move {
                match item {
                    Ok(e) => match ours(&st, org.as_deref(), &e.event.host_id).await {
                        Ok(true) => Some(Ok(e)),
                        Ok(false) => None,
                        // Unknown is not shown: the subscriber is told it missed something.
                        Err(_) => Some(Err(1)),
                    },
                    Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                        Some(Err(n))
                    }
                }
            }
        })
        .filter_map(move |item| match item? {
            Ok(e) if replayed.contains(&e.seq) => None,
            Ok(e) => Some(Ok(trust_event(e.seq, &e.event))),
            Err(n) => Some(Ok(Event::default().event("lagged").data(n.to_string()))),
        });
    let events = tokio_stream::iter(replay.into_iter().map(Ok)).chain(live);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Whether an event about `host_id` is for a caller of `org` (`None`: every organisation).
async fn ours(
    st: &AppState,
    org: Option<&str>,
    host_id: &str,
) -> Result<bool, crate::store::StoreError> {
    match org {
        None => Ok(true),
        Some(org) => Ok(st
            .store
            .owner(crate::identity::store::ObjectKind::Host, host_id)
            .await?
            == org),
    }
}

/// The events a resuming subscriber missed, within a budget of events and bytes. Once
/// the budget is spent, a `lagged` event ends the replay.
struct Replay {
    events: Vec<Event>,
    seqs: std::collections::HashSet<i64>,
    bytes: usize,
    max_events: usize,
    max_bytes: usize,
    lagged: bool,
}

impl Replay {
    fn new(max_events: usize, max_bytes: usize) -> Self {
        Replay {
            events: Vec::new(),
            seqs: std::collections::HashSet::new(),
            bytes: 0,
            max_events,
            max_bytes,
            lagged: false,
        }
    }

    /// Adds one event if the budget allows; false once it is spent (nothing more is
    /// taken after that).
    fn push(&mut self, seq: i64, event: &TrustEvent) -> bool {
        if self.lagged {
            return false;
        }
        let Ok(json) = serde_json::to_string(event) else {
            // As the live stream does: the subscriber learns an event could not be sent.
            self.events.push(Event::default().event("error"));
            return true;
        };
        if self.events.len() >= self.max_events || self.bytes + json.len() > self.max_bytes {
            self.lagged = true;
            return false;
        }
        self.bytes += json.len();
        self.seqs.insert(seq);
        self.events.push(
            Event::default()
                .event("trust")
                .id(seq.to_string())
                .data(json),
        );
        true
    }

    /// The events to send first, ending with `lagged` if the budget ran out, and the
    /// sequence numbers they cover (not to be sent again from the live stream).
    fn finish(mut self) -> (Vec<Event>, std::collections::HashSet<i64>) {
        if self.lagged {
            self.events.push(
                Event::default()
                    .event("lagged")
                    .data("replay limit reached"),
            );
        }
        (self.events, self.seqs)
    }
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

    fn event(n: usize) -> TrustEvent {
        TrustEvent {
            host_id: "h".into(),
            hostname: "node".into(),
            previous: ironroot_api::TrustState::Trusted,
            trust: ironroot_api::TrustState::Untrusted,
            at: 1,
            report_id: None,
            report_jws: None,
            reasons: vec!["x".repeat(n)],
        }
    }

    /// The review's finding: what a resuming subscriber is replayed was bounded in
    /// events only, and one event can carry many long reasons.
    #[test]
    fn a_resuming_subscriber_cannot_make_the_replay_grow_past_its_byte_budget() {
        let big = event(10_000);
        let size = serde_json::to_string(&big).unwrap().len();
        let mut r = Replay::new(1_000, size * 3);
        let taken = (0..100).take_while(|i| r.push(*i, &big)).count();
        assert_eq!(taken, 3);
        assert!(
            !r.push(100, &event(1)),
            "nothing more once the budget is spent"
        );
        assert!(r.bytes <= size * 3);
        let (events, seqs) = r.finish();
        assert_eq!(
            (events.len(), seqs.len()),
            (4, 3),
            "three events and lagged"
        );

        let mut r = Replay::new(2, usize::MAX);
        assert!(r.push(1, &event(1)) && r.push(2, &event(1)));
        assert!(!r.push(3, &event(1)));
        assert_eq!(r.finish().0.len(), 3);

        let mut r = Replay::new(10, 10);
        assert!(!r.push(1, &event(100)), "an event larger than the budget");
        assert_eq!(r.finish().1.len(), 0);
        let (events, _) = Replay::new(10, 100).finish();
        assert!(events.is_empty(), "nothing missed, nothing sent");
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
