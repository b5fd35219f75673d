//! Trust changes as events: a broadcast bus, the server-sent-event stream at
//! `GET /v1/events`, and the deadline sweeper that turns a missed attestation into an
//! `expired` event (fail closed: a trusted verdict is good only until its deadline).

use crate::error::ServiceError;
use crate::{now, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use ironroot_api::{TrustEvent, TrustState};
use std::convert::Infallible;
use std::sync::Arc;
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
                for l in lapsed {
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
