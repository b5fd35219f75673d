//! Group commit for verdicts. Every attestation ends with two writes (its report and its
//! host's trust state); SQLite takes one writer at a time, so writing each attestation in
//! its own transaction caps the service well below what verification can do. One task
//! collects the verdicts that arrive while the previous batch commits and writes them in
//! one transaction. A request is answered only after its batch committed, so a crash
//! loses no verdict that was announced.
//!
//! A batch waits up to [`LINGER`] for company after its first verdict. Without it, a
//! fleet whose attestations arrive a millisecond apart commits them one by one, and each
//! transaction pays its fixed statements (begin, the audit log's edge and its subtrees,
//! commit) for a single verdict: at 1,100 attestations a second that was a sixth of the
//! service's CPU (docs/benchmarks.md, "Audit log").

use crate::store::{Store, StoreError, Verdict};
use ironroot_api::TrustState;
use tokio::sync::{mpsc, oneshot};

/// Largest batch; a bound on how long one transaction holds the write lock.
const MAX_BATCH: usize = 256;
const QUEUE: usize = 4096;
/// How long the first verdict of a batch waits for others (a few more milliseconds on an
/// attestation's answer, against a p99 budget of 100).
const LINGER: std::time::Duration = std::time::Duration::from_millis(3);

type Job = (Verdict, oneshot::Sender<Result<TrustState, StoreError>>);

pub(crate) struct VerdictWriter {
    tx: mpsc::Sender<Job>,
}

impl VerdictWriter {
    /// Starts the writer task; it ends when the last handle is dropped.
    pub fn start(store: Store) -> (VerdictWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (VerdictWriter { tx }, tokio::spawn(run(store, rx)))
    }

    /// Persists one verdict and returns the host's previous trust state.
    pub async fn write(&self, v: Verdict) -> Result<TrustState, StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((v, done))
            .await
            .map_err(|_| StoreError::Unavailable("the verdict writer stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Unavailable("the verdict writer stopped".into()))?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        let until = tokio::time::Instant::now() + LINGER;
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(until, rx.recv()).await {
                        Ok(Some(j)) => jobs.push(j),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        let batch: Vec<Verdict> = jobs.iter().map(|(v, _)| v.clone()).collect();
        match store.write_verdicts(&batch).await {
            Ok(previous) => {
                for ((_, done), p) in jobs.drain(..).zip(previous) {
                    let _ = done.send(Ok(p));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, verdicts = jobs.len(), "writing a batch of verdicts failed");
                for (_, done) in jobs.drain(..) {
                    let _ = done.send(Err(StoreError::Unavailable(e.to_string())));
                }
            }
        }
    }
}
