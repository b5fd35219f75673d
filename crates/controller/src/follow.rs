//! Following the service: a full read of every bound host, then its trust-event stream
//! from exactly where that read stood, re-reading each host an event names. Any replica
//! will do (they share the event log); on every reconnect the controller reads everything
//! again, so nothing is missed, and resumes the stream with `Last-Event-ID`.

use crate::state::State;
use ironroot_api::TrustEvent;
use ironroot_client::{Client, ClientError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the follower behaves.
#[derive(Debug, Clone, Copy)]
pub struct FollowConfig {
    /// How long the service may be unreachable before every Node reads `unknown`
    /// (which stops new scheduling there, and never evicts).
    pub unreachable_grace: Duration,
    /// How often everything is read again even when the stream is quiet: refreshes the
    /// reports published on Nodes, and bounds the damage of a stream that died silently.
    pub resync: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            unreachable_grace: Duration::from_secs(10),
            resync: Duration::from_secs(60),
        }
    }
}

/// Follows the service until the task is dropped.
pub async fn run(client: Client, state: Arc<State>, cfg: FollowConfig) {
    let mut last_id: Option<i64> = None;
    let mut last_good = Instant::now(); // when the view was last known current
    let mut backoff = Duration::from_millis(100);
    loop {
        match session(&client, &state, cfg, &mut last_id, &mut last_good).await {
            Ok(()) => {
                backoff = Duration::from_millis(100);
                continue; // a resync: read everything again at once
            }
            Err(e) => tracing::warn!(
                error = %ironroot_client::error_chain(&e),
                "lost the attestation service; reading everything again"
            ),
        }
        if last_good.elapsed() >= cfg.unreachable_grace {
            state.set_current(false);
        }
        // Retry soon enough to notice the grace passing, with a growing pause.
        let left = cfg.unreachable_grace.saturating_sub(last_good.elapsed());
        let pause = if left.is_zero() {
            backoff
        } else {
            backoff.min(left)
        };
        tokio::time::sleep(pause.max(Duration::from_millis(50))).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connected session: the stream is opened first (resuming after the last event
/// seen, if any), then everything is read, so a change committed while the read runs
/// reaches the stream instead of falling between the two. Ends when the stream breaks or
/// a resync is due.
async fn session(
    client: &Client,
    state: &State,
    cfg: FollowConfig,
    last_id: &mut Option<i64>,
    last_good: &mut Instant,
) -> Result<(), ClientError> {
    let mut stream = client.event_stream("/v1/events", *last_id).await?;
    let list = client.nodes().await?;
    state.replace_all(list.nodes);
    *last_good = Instant::now();
    let deadline = tokio::time::Instant::now() + cfg.resync;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, stream.next_event()).await else {
            return Ok(()); // resync: read everything again
        };
        let Some(ev) = next? else {
            return Err(ClientError::Unreachable {
                base: client.base().to_owned(),
                detail: "the event stream ended".into(),
            });
        };
        match ev.event.as_deref() {
            // An event names a host whose published facts changed (its trust, tags or
            // binding): re-read that host. A repeated event costs one read, nothing more.
            Some("trust") => {
                let Ok(te) = serde_json::from_str::<TrustEvent>(&ev.data) else {
                    tracing::warn!("a malformed trust event; reading everything again");
                    return Ok(());
                };
                refresh(client, state, &te.host_id).await?;
                *last_good = Instant::now();
            }
            Some("lagged") => {
                tracing::warn!("the event stream lagged; reading everything again");
                *last_id = None;
                return Ok(());
            }
            _ => {}
        }
        if let Some(id) = ev.id {
            *last_id = Some(id);
        }
    }
}

/// Re-reads one host's published facts (an event says they changed).
async fn refresh(client: &Client, state: &State, host_id: &str) -> Result<(), ClientError> {
    match client.node(host_id).await {
        Ok(nt) => state.upsert(host_id, Some(nt)),
        Err(e) if e.status().map(|s| s.0) == Some(404) => state.upsert(host_id, None),
        Err(e) => return Err(e),
    }
    Ok(())
}
