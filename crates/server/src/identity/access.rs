//! Access decisions in the audit trail. Every request the principal gate decides, allowed
//! or denied, becomes an `access.allowed` or `access.denied` entry naming who, what
//! (method and route template) and on which organisation, before the handler runs: a
//! decision the log cannot take refuses the request (fail closed).
//!
//! Entries are appended by one task in batches (group commit, as `writer.rs` does for
//! verdicts), so reads of the administration API cost a share of one transaction each.
//! Refusals of callers who presented no valid credential are logged too, but at most
//! [`ANONYMOUS_PER_SECOND`] a second: beyond that a flood of anonymous requests would
//! fill the database; they still reach the service's own log.

use crate::audit::{self, NewEntry};
use crate::store::{Store, StoreError};
use serde_json::json;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 256;
const QUEUE: usize = 4096;
pub(crate) const ANONYMOUS_PER_SECOND: u32 = 5;

type Job = (NewEntry, oneshot::Sender<Result<(), StoreError>>);

pub(crate) struct AccessLog {
    tx: mpsc::Sender<Job>,
    anonymous: Mutex<(u64, u32)>,
}

impl AccessLog {
    pub(crate) fn start(store: Store) -> (AccessLog, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let log = AccessLog {
            tx,
            anonymous: Mutex::new((0, 0)),
        };
        (log, tokio::spawn(run(store, rx)))
    }

    /// Appends `entry` and waits until it is committed.
    pub(crate) async fn record(&self, entry: NewEntry) -> Result<(), StoreError> {
        let stopped = || StoreError::Unavailable("the access log writer stopped".into());
        let (done, wait) = oneshot::channel();
        self.tx.send((entry, done)).await.map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }

    /// Whether an anonymous refusal at `now` still fits this second's budget.
    pub(crate) fn anonymous_budget(&self, now: u64) -> bool {
        let mut g = self.anonymous.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 != now {
            *g = (now, 0);
        }
        g.1 += 1;
        g.1 <= ANONYMOUS_PER_SECOND
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let entries: Vec<NewEntry> = jobs.iter().map(|(e, _)| e.clone()).collect();
        let result = append(&store, &entries).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, decisions = jobs.len(), "recording access decisions failed; refusing those requests");
        }
        for (_, done) in jobs.drain(..) {
            let _ = done.send(
                result
                    .as_ref()
                    .map(|_| ())
                    .map_err(|e| StoreError::Unavailable(e.to_string())),
            );
        }
    }
}

async fn append(store: &Store, entries: &[NewEntry]) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    audit::append(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(())
}

/// One access decision.
pub(crate) struct Decision<'a> {
    pub at: u64,
    /// `anonymous` when no credential was accepted.
    pub actor: &'a str,
    pub org: Option<&'a str>,
    pub method: &'a str,
    pub route: &'a str,
    pub allowed: bool,
    /// Why it was denied (or `None`).
    pub reason: Option<&'a str>,
    /// Where it came from (the TCP peer).
    pub source: &'a str,
}

pub(crate) fn decision(d: &Decision<'_>) -> NewEntry {
    NewEntry {
        at: d.at,
        kind: if d.allowed {
            "access.allowed"
        } else {
            "access.denied"
        },
        actor: d.actor.to_owned(),
        subject: format!("route/{} {}", d.method, d.route),
        body: json!({
            "method": d.method,
            "route": d.route,
            "organisation": d.org,
            "allowed": d.allowed,
            "reason": d.reason,
            "source": d.source,
        }),
    }
}

/// The entries of changes to who may do what: organisations made, tokens issued or
/// revoked, people bound or unbound. `subject` names the credential; `body` its scope.
pub(crate) fn identity_change(
    kind: &'static str,
    at: u64,
    actor: &str,
    subject: String,
    body: serde_json::Value,
) -> NewEntry {
    NewEntry {
        at,
        kind,
        actor: actor.to_owned(),
        subject,
        body,
    }
}
