//! Scenarios for the statements replicas rely on: the TPM-counter high-water mark, trust
//! state written by group commit, exactly-once expiry, retention and shared secrets.

use super::{host, report};
use crate::store::{ClockCheck, Store, Verdict};
use ironroot_api::TrustState::{self, Expired, Trusted, Unknown, Untrusted};

/// The TPM-counter high-water mark: strictly later counters advance it, the same ones
/// are a repeat, earlier ones went backwards, and a reboot (higher resetCount) advances.
pub(super) async fn clock_high_water_mark(store: &Store) {
    store
        .put_host(&host("c1", "clock", b"ek-c1"))
        .await
        .unwrap();
    let check = |r, s, c| async move { store.advance_clock("c1", r, s, c).await.unwrap() };
    assert_eq!(check(3, 0, 1000).await, ClockCheck::Advanced, "first quote");
    assert_eq!(
        check(3, 0, 1000).await,
        ClockCheck::Repeated,
        "same quote again"
    );
    assert_eq!(
        check(3, 0, 999).await,
        ClockCheck::WentBackwards,
        "older clock, same boot"
    );
    assert_eq!(check(3, 0, 2000).await, ClockCheck::Advanced);
    assert_eq!(
        check(3, 1, 5).await,
        ClockCheck::Advanced,
        "resume: restartCount up"
    );
    assert_eq!(
        check(2, 9, 99_999).await,
        ClockCheck::WentBackwards,
        "older boot"
    );
    assert_eq!(check(4, 0, 1).await, ClockCheck::Advanced, "reboot");
    assert_eq!(
        check(3, 1, 6).await,
        ClockCheck::WentBackwards,
        "stays behind the mark"
    );
}

/// One verdict through the group-commit path, as the service writes them.
async fn verdict(
    store: &Store,
    id: &str,
    created: u64,
    trusted: bool,
    deadline: Option<u64>,
    expected: Option<TrustState>,
) -> TrustState {
    let v = Verdict {
        report: report(id, "t1", created, trusted),
        deadline,
        expected,
        hostname: "trusty".into(),
        reasons: vec![],
    };
    store.write_verdicts(&[v]).await.unwrap().remove(0)
}

/// Verdicts return the state before them; lapsed trust flips once; pruning keeps the latest.
pub(super) async fn trust_state_deadlines_and_retention(store: &Store) {
    store
        .put_host(&host("t1", "trusty", b"ek-t1"))
        .await
        .unwrap();
    assert_eq!(
        verdict(store, "t1-r1", 10, true, Some(100), None).await,
        Unknown
    );
    assert_eq!(
        verdict(store, "t1-r2", 20, true, Some(110), Some(Trusted)).await,
        Trusted
    );
    // A stale guess of the previous state costs a read, never a wrong answer.
    assert_eq!(
        verdict(store, "t1-r2b", 21, true, Some(110), Some(Untrusted)).await,
        Trusted
    );
    assert!(
        store.expire_lapsed(109).await.unwrap().is_empty(),
        "not yet"
    );
    let lapsed = store.expire_lapsed(110).await.unwrap();
    assert_eq!(
        lapsed
            .iter()
            .map(|l| (l.host_id.as_str(), l.deadline))
            .collect::<Vec<_>>(),
        [("t1", 110)]
    );
    assert!(
        store.expire_lapsed(500).await.unwrap().is_empty(),
        "each expiry happens once"
    );
    assert_eq!(
        store.trust_state("t1").await.unwrap().map(|t| t.0),
        Some(Expired)
    );
    assert_eq!(
        verdict(store, "t1-r3", 30, false, None, None).await,
        Expired
    );
    assert!(
        store.expire_lapsed(u64::MAX / 4).await.unwrap().is_empty(),
        "untrusted hosts have no deadline"
    );
    // A batch is all or nothing: a duplicate report id fails the whole transaction.
    let dup = Verdict {
        report: report("t1-r3", "t1", 31, false),
        deadline: None,
        expected: None,
        hostname: "trusty".into(),
        reasons: vec![],
    };
    let fresh = Verdict {
        report: report("t1-r4", "t1", 32, true),
        deadline: Some(9),
        expected: None,
        hostname: "trusty".into(),
        reasons: vec![],
    };
    assert!(store.write_verdicts(&[fresh, dup]).await.is_err());
    assert!(
        store.report("t1-r4").await.unwrap().is_none(),
        "nothing of a failed batch is written"
    );
    assert_eq!(
        store.trust_state("t1").await.unwrap().map(|t| t.0),
        Some(Untrusted)
    );
    // t1-r3 is the host's latest report: kept even when older than the cutoff (the other
    // scenarios' reports are all created at 100 or later).
    assert_eq!(store.prune_reports(50, 1).await.unwrap(), 1);
    assert_eq!(store.prune_reports(50, 100).await.unwrap(), 2);
    assert_eq!(store.prune_reports(50, 100).await.unwrap(), 0);
    assert!(store.report("t1-r3").await.unwrap().is_some());
    // Changes only, in order: unknown→trusted, trusted→expired, expired→untrusted.
    // Trusted→trusted logged nothing; the failed batch logged nothing.
    let log: Vec<_> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.host_id == "t1")
        .map(|e| {
            (
                e.event.previous.as_str(),
                e.event.trust.as_str(),
                e.event.report_id,
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            ("unknown", "trusted", Some("t1-r1".to_string())),
            ("trusted", "expired", None),
            ("expired", "untrusted", Some("t1-r3".to_string())),
        ]
    );
    let seqs: Vec<i64> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        store.latest_event_seq().await.unwrap(),
        *seqs.last().unwrap()
    );
    assert_eq!(
        store.events_after(seqs[0], 100).await.unwrap().len(),
        seqs.len() - 1,
        "resumes after a given id"
    );
    assert_eq!(store.prune_events(u64::MAX / 4, 1).await.unwrap(), 1);
    assert_eq!(
        store.events_after(0, 100).await.unwrap().len(),
        seqs.len() - 1
    );
    let a = store.shared_secret("k", b"first").await.unwrap();
    let b = store.shared_secret("k", b"second").await.unwrap();
    assert_eq!(
        (a.as_slice(), b.as_slice()),
        (&b"first"[..], &b"first"[..]),
        "the first writer's secret wins"
    );
}
