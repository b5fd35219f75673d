//! Group commit for verdicts. Every attestation ends with two writes (its report and its
//! host's trust state); SQLite takes one writer at a time, so writing each attestation in
//! its own transaction caps the service well below what verification can do. One task
//! collects the verdicts that arrive while the previous batch commits and writes them in
//! one transaction. A request is answered only after its batch committed, so a crash
//! loses no verdict that was announced.

use crate::store::{Store, StoreError, Verdict};
use ironroot_api::TrustState;
use tokio::sync::{mpsc, oneshot};

/// Largest batch; a bound on how long one transaction holds the write lock.
const MAX_BATCH: usize = 256;
const QUEUE: usize = 4096;

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
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
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
