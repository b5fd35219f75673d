//! Carries violations (the webhook's denials and admissions, the audit's findings) from
//! the [`crate::policies::ViolationQueue`] to the hub in batches of at most
//! [`MAX_VIOLATION_BATCH`], retrying a failed batch with backoff. The webhook only ever
//! `try_send`s into the bounded queue, so a slow or absent hub never slows admission;
//! what overflows is counted there, and the background audit finds it again.

use super::{Hub, HubStats};
use ironroot_api::{ViolationBatch, ViolationEvent, MAX_VIOLATION_BATCH};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;

/// How long a first violation waits for others to share its batch.
const GATHER: Duration = Duration::from_millis(200);
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Sends until the queue's senders are all gone.
pub async fn run(hub: Arc<dyn Hub>, mut rx: Receiver<ViolationEvent>, stats: Arc<HubStats>) {
    while let Some(batch) = gather(&mut rx).await {
        send(hub.as_ref(), &batch, &stats).await;
    }
}

/// The next batch: one violation, and whatever else arrives within [`GATHER`], up to the
/// limit. `None` when the queue is closed and empty.
async fn gather(rx: &mut Receiver<ViolationEvent>) -> Option<ViolationBatch> {
    let first = rx.recv().await?;
    let mut violations = vec![first];
    let deadline = tokio::time::Instant::now() + GATHER;
    while violations.len() < MAX_VIOLATION_BATCH {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(v)) => violations.push(v),
            Ok(None) | Err(_) => break,
        }
    }
    Some(ViolationBatch { violations })
}

/// Posts `batch` until the hub takes it, waiting longer after each failure.
async fn send(hub: &dyn Hub, batch: &ViolationBatch, stats: &HubStats) {
    let mut wait = FIRST_RETRY;
    loop {
        match hub.report_violations(batch).await {
            Ok(()) => {
                HubStats::add(&stats.violations_sent, batch.violations.len() as u64);
                return;
            }
            Err(e) => {
                HubStats::add(&stats.violation_batches_failed, 1);
                tracing::warn!(error = %e, violations = batch.violations.len(), retry_in = ?wait,
                    "the hub did not take a batch of violations");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::fake::FakeHub;
    use crate::policies::ViolationQueue;
    use ironroot_api::{ObjectRef, ViolationAction};

    fn violation(i: usize) -> ViolationEvent {
        ViolationEvent {
            policy: "no-privileged".into(),
            object: ObjectRef {
                namespace: "apps".into(),
                kind: "Pod".into(),
                name: format!("p{i}"),
            },
            message: "privileged".into(),
            action: ViolationAction::Denied,
            at: 1,
        }
    }

    #[tokio::test]
    async fn violations_reach_the_hub_in_bounded_batches_after_its_failures() {
        let hub = Arc::new(FakeHub::default());
        hub.refuse_violations
            .store(2, std::sync::atomic::Ordering::SeqCst);
        let (q, rx) = ViolationQueue::new();
        let total = MAX_VIOLATION_BATCH + 20;
        for i in 0..total {
            q.push(violation(i));
        }
        drop(q);
        let stats = Arc::new(HubStats::default());
        run(hub.clone(), rx, stats.clone()).await;
        let batches = hub.violations.lock().unwrap().clone();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].violations.len(), MAX_VIOLATION_BATCH);
        assert_eq!(batches[1].violations.len(), 20);
        assert_eq!(
            batches[1].violations[19].object.name,
            format!("p{}", total - 1)
        );
        assert_eq!(HubStats::get(&stats.violations_sent), total as u64);
        assert_eq!(HubStats::get(&stats.violation_batches_failed), 2);
    }
}
