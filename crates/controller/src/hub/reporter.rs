//! Carries violations (the webhook's denials and admissions, the audit's findings) from
//! the [`crate::policies::ViolationQueue`] to the hub in batches of at most
//! [`MAX_VIOLATION_BATCH`], retrying a failed batch with backoff. The webhook only ever
//! `try_send`s into the bounded queue, so a slow or absent hub never slows admission;
//! what overflows is counted there, and the background audit finds it again.
//!
//! Beside them, remediation reports ([`crate::remediation::RemediationQueue`]): one post
//! each, retried with the same backoff, dropped only when the hub refuses one for good.

use super::{Delivery, Hub, HubStats};
use ironroot_api::{RemediationReport, ViolationBatch, ViolationEvent, MAX_VIOLATION_BATCH};
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

/// Sends remediation reports, in order, until the queue's senders are all gone.
pub async fn run_remediations(
    hub: Arc<dyn Hub>,
    mut rx: Receiver<RemediationReport>,
    stats: Arc<HubStats>,
) {
    while let Some(r) = rx.recv().await {
        send_remediation(hub.as_ref(), &r, &stats).await;
    }
}

/// Posts `r` until the hub answers it, waiting longer after each failure.
async fn send_remediation(hub: &dyn Hub, r: &RemediationReport, stats: &HubStats) {
    let mut wait = FIRST_RETRY;
    loop {
        match hub.report_remediation(r).await {
            Ok(Delivery::Taken { recorded }) => {
                HubStats::add(&stats.remediations_sent, 1);
                tracing::debug!(node = %r.node, action = r.action.as_str(), recorded, "remediation reported");
                return;
            }
            Ok(Delivery::Refused(why)) => {
                HubStats::add(&stats.remediations_refused, 1);
                tracing::warn!(node = %r.node, host = %r.host_id, action = r.action.as_str(), reason = %why,
                    "the hub refused a remediation report; dropped");
                return;
            }
            Err(e) => {
                HubStats::add(&stats.remediation_posts_failed, 1);
                tracing::warn!(error = %e, node = %r.node, retry_in = ?wait,
                    "the hub did not take a remediation report");
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

    #[tokio::test]
    async fn remediations_reach_the_hub_in_order_after_its_failures_and_a_refusal_is_dropped() {
        use crate::remediation::{RemediationQueue, Remediations};
        let hub = Arc::new(FakeHub::default());
        hub.fail_remediations
            .store(2, std::sync::atomic::Ordering::SeqCst);
        hub.refuse_hosts.lock().unwrap().push("h2".into());
        let (q, rx) = RemediationQueue::new();
        let r = Remediations::new(Some(q));
        r.drain_started("w1", Some("h1"));
        r.drain_started("w2", Some("h2"));
        r.drain_finished("w1", Some("h1"));
        drop(r);
        let stats = Arc::new(HubStats::default());
        run_remediations(hub.clone(), rx, stats.clone()).await;
        let got = hub.remediations.lock().unwrap().clone();
        let seen: Vec<(&str, &str)> = got
            .iter()
            .map(|g| (g.node.as_str(), g.detail.split(':').next().unwrap_or("")))
            .collect();
        assert_eq!(seen, [("w1", "drain started"), ("w1", "drained")]);
        assert_eq!(HubStats::get(&stats.remediations_sent), 2);
        assert_eq!(HubStats::get(&stats.remediations_refused), 1);
        assert_eq!(HubStats::get(&stats.remediation_posts_failed), 2);
    }
}
