//! The delivery worker: takes due notices from the outbox, oldest first, and sends each
//! sink's in order; a sink that fails is backed off (exponential, with jitter) as a whole,
//! so an outage costs one attempt per backoff step, not one per queued notice. Notices
//! stay in the database until delivered, so a restart or an outage loses none.

mod syslog;
mod webhook;

use super::outbox::{Pending, SinkRow};
use crate::AppState;
use ironroot_api::SinkSpec;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the outbox is read when nothing wakes the worker (notices queued by another
/// replica, backoffs that ended).
const POLL: Duration = Duration::from_millis(250);
/// Notices claimed per pass.
const BATCH: u32 = 200;
/// The first retry's delay, and the longest.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Delivered notices are kept this long (for `GET /v1/sinks` and inquiries), then pruned.
const KEEP_DELIVERED_SECS: u64 = 7 * 24 * 3600;

/// A transport's failure, as recorded on the notice (never a secret: the reason only).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Transport(String),
    #[error("the receiver answered {0}")]
    Status(u16),
}

/// One sink's open transport, rebuilt when its configuration changes.
enum Transport {
    Webhook(webhook::Webhook),
    // Boxed: it holds an open TLS stream (about a kilobyte).
    Syslog(Box<syslog::Syslog>),
    /// A configuration that cannot be used (a secret that no longer opens): its notices
    /// wait, backed off like any failure, until the sink is fixed.
    Broken(String),
}

/// Per sink: its transport, the spec it was built from, and its backoff.
struct SinkSlot {
    spec_json: String,
    transport: Transport,
    failures: u32,
    retry_at: Option<Instant>,
}

/// The delay after `failures` failures in a row: base × 2^(n-1), at most the maximum,
/// then "full jitter" over its upper half, so replicas and sinks do not retry in step.
pub(crate) fn backoff(failures: u32, random: u64) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let cap = exp.min(BACKOFF_MAX);
    let half = cap / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(random % jitter_ms)
}

fn random_u64() -> u64 {
    ironroot_crypto::random_bytes(8)
        .ok()
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

fn now_ms() -> u64 {
    crate::now().saturating_mul(1000)
}

/// Runs for the life of the service.
pub(crate) async fn run(st: Arc<AppState>) {
    let mut slots: HashMap<String, SinkSlot> = HashMap::new();
    let mut trust = st.events.subscribe();
    let mut passes: u64 = 0;
    loop {
        tokio::select! {
            () = st.alerts.wake.notified() => {}
            // A trust event may have raised or resolved an alert in its transaction.
            _ = trust.recv() => {}
            () = tokio::time::sleep(POLL) => {}
        }
        passes += 1;
        if let Err(e) = pass(&st, &mut slots).await {
            tracing::warn!(error = %e, "alert delivery pass failed; will retry");
        }
        if passes.is_multiple_of(14_400) {
            let cutoff = crate::now().saturating_sub(KEEP_DELIVERED_SECS);
            if let Err(e) = st.store.prune_outbox(cutoff, 5_000).await {
                tracing::warn!(error = %e, "outbox pruning failed; will retry");
            }
        }
    }
}

/// One pass: refresh the sinks, claim what is due, deliver each sink's share in order
/// (sinks concurrently), and record the outcomes.
async fn pass(
    st: &Arc<AppState>,
    slots: &mut HashMap<String, SinkSlot>,
) -> Result<(), crate::store::StoreError> {
    let sinks = st.store.sinks().await?;
    refresh(st, slots, &sinks);
    let now = Instant::now();
    let backing_off: Vec<String> = slots
        .iter()
        .filter(|(_, s)| s.retry_at.is_some_and(|t| t > now))
        .map(|(n, _)| n.clone())
        .collect();
    let due = st.store.claim_due(now_ms(), BATCH, &backing_off).await?;
    if due.is_empty() {
        return Ok(());
    }
    let mut by_sink: HashMap<String, Vec<Pending>> = HashMap::new();
    for p in due {
        by_sink.entry(p.sink.clone()).or_default().push(p);
    }
    let mut jobs = tokio::task::JoinSet::new();
    for (name, notices) in by_sink {
        let Some(mut slot) = slots.remove(&name) else {
            continue; // deleted meanwhile: its rows went with it
        };
        let st = st.clone();
        jobs.spawn(async move {
            let outcome = deliver_all(&st, &mut slot, &notices).await;
            (name, slot, outcome)
        });
    }
    while let Some(joined) = jobs.join_next().await {
        let Ok((name, mut slot, outcome)) = joined else {
            continue;
        };
        match outcome {
            Ok(()) => {
                slot.failures = 0;
                slot.retry_at = None;
            }
            Err(()) => {
                slot.failures = slot.failures.saturating_add(1);
                slot.retry_at = Some(Instant::now() + backoff(slot.failures, random_u64()));
            }
        }
        slots.insert(name, slot);
    }
    Ok(())
}

/// Sends one sink's notices in order; at the first failure, releases the rest for later.
async fn deliver_all(st: &AppState, slot: &mut SinkSlot, notices: &[Pending]) -> Result<(), ()> {
    for (i, p) in notices.iter().enumerate() {
        let sent = match &mut slot.transport {
            Transport::Webhook(w) => w.send(&p.notice).await,
            Transport::Syslog(s) => s.send(&p.notice).await,
            Transport::Broken(why) => Err(SendError::Config(why.clone())),
        };
        let stored = match &sent {
            Ok(()) => st.store.mark_delivered(p.seq, crate::now()).await,
            Err(e) => {
                let delay = backoff(slot.failures.saturating_add(1), random_u64());
                let retry = now_ms() + u64::try_from(delay.as_millis()).unwrap_or(0);
                tracing::warn!(sink = %p.sink, attempts = p.attempts + 1, error = %e, "alert delivery failed; will retry");
                for later in &notices[i..] {
                    let _ = st.store.mark_failed(later.seq, retry, &e.to_string()).await;
                }
                return Err(());
            }
        };
        if let Err(e) = stored {
            // Sent but not marked: it will be sent again after its lease (same id).
            tracing::warn!(error = %e, "cannot mark an alert delivered; it may be sent twice");
        }
    }
    Ok(())
}

/// Builds a transport for each new or changed sink and drops those that went.
fn refresh(st: &AppState, slots: &mut HashMap<String, SinkSlot>, sinks: &[SinkRow]) {
    slots.retain(|name, _| sinks.iter().any(|s| &s.name == name));
    for s in sinks {
        let spec_json = serde_json::to_string(&(&s.spec, &s.sealed_secret)).unwrap_or_default();
        if slots
            .get(&s.name)
            .is_some_and(|slot| slot.spec_json == spec_json)
        {
            continue;
        }
        let transport = match &s.spec {
            SinkSpec::Webhook(w) => {
                webhook::Webhook::new(st, &s.name, w, s.sealed_secret.as_deref())
                    .map(Transport::Webhook)
            }
            SinkSpec::Syslog(c) => {
                syslog::Syslog::new(st, c).map(|s| Transport::Syslog(Box::new(s)))
            }
        };
        let transport = transport.unwrap_or_else(|e| {
            tracing::warn!(sink = %s.name, error = %e, "alert sink unusable; its notices wait");
            Transport::Broken(e.to_string())
        });
        slots.insert(
            s.name.clone(),
            SinkSlot {
                spec_json,
                transport,
                failures: 0,
                retry_at: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_its_jittered_band_and_stops_at_the_cap() {
        for (n, lo, hi) in [
            (1, 125, 250),
            (2, 250, 500),
            (3, 500, 1000),
            (9, 30_000, 60_000),
        ] {
            for r in [0, 1, 7_777, u64::MAX] {
                let d = backoff(n, r).as_millis();
                assert!(d >= lo && d < hi, "failure {n}, random {r}: {d} ms");
            }
        }
        assert_eq!(
            backoff(40, 0),
            BACKOFF_MAX / 2,
            "no overflow far past the cap"
        );
    }
}
