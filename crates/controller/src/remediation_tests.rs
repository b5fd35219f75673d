//! Which remediation decision enqueues which report, and that nothing is queued without
//! a hub link.

use super::*;
use crate::view::NodeView;
use serde_json::json;
use std::collections::BTreeMap;

fn desired(trust: TrustState, host: Option<&str>) -> Desired {
    Desired {
        view: NodeView {
            trust,
            tags: BTreeMap::new(),
            host_id: host.map(str::to_owned),
            reason: "pcr 7 changed".into(),
            pod_pids_limit: None,
        },
        report: None,
    }
}

fn tainted(value: &str) -> Observed {
    Observed {
        taints: vec![json!({"key": TAINT_KEY, "value": value, "effect": "NoSchedule"})],
        ..Observed::default()
    }
}

fn drain_all(rx: &mut Receiver<RemediationReport>) -> Vec<RemediationReport> {
    let mut out = Vec::new();
    while let Ok(r) = rx.try_recv() {
        out.push(r);
    }
    out
}

#[test]
fn a_newly_tainted_untrusted_node_reports_a_taint_for_its_host() {
    let (q, mut rx) = RemediationQueue::new();
    let r = Remediations::new(Some(q));
    let d = desired(TrustState::Untrusted, Some("h1"));
    r.patched("w1", &Observed::default(), &d, TaintEffect::NoExecute);
    let got = drain_all(&mut rx);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].host_id.as_str(), got[0].node.as_str()),
        ("h1", "w1")
    );
    assert_eq!(got[0].action, RemediationAction::Taint);
    assert!(
        got[0].detail.ends_with("=untrusted:NoExecute"),
        "{}",
        got[0].detail
    );

    // Already tainted for this trust: the patch changed something else.
    r.patched("w1", &tainted("untrusted"), &d, TaintEffect::NoExecute);
    assert!(drain_all(&mut rx).is_empty());
    // Untrusted after expired: a new taint value, a new report (the alert was raised anew).
    r.patched("w1", &tainted("expired"), &d, TaintEffect::NoSchedule);
    assert_eq!(drain_all(&mut rx).len(), 1);
}

#[test]
fn expired_is_reported_with_no_schedule_and_unknown_or_unbound_not_at_all() {
    let d = desired(TrustState::Expired, Some("h1"));
    let r = taint_report("w1", &Observed::default(), &d, TaintEffect::NoExecute).unwrap();
    assert!(r.detail.ends_with("=expired:NoSchedule"), "{}", r.detail);
    let none = |t, h| {
        taint_report(
            "w1",
            &Observed::default(),
            &desired(t, h),
            TaintEffect::NoSchedule,
        )
    };
    assert!(
        none(TrustState::Unknown, Some("h1")).is_none(),
        "no host lost trust"
    );
    assert!(none(TrustState::Trusted, Some("h1")).is_none());
    assert!(
        none(TrustState::Untrusted, None).is_none(),
        "no host to name"
    );
}

#[test]
fn drains_report_their_start_and_end_and_the_brake_each_held_node_once_per_hold() {
    let (q, mut rx) = RemediationQueue::new();
    let r = Remediations::new(Some(q));
    r.drain_started("w1", Some("h1"));
    r.drain_finished("w1", Some("h1"));
    r.drain_started("w9", None);
    let got = drain_all(&mut rx);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| g.action == RemediationAction::Drain));
    assert!(got[1].detail.starts_with("drained"));

    let untrusted = vec![
        ("w1".to_owned(), Some("h1".to_owned())),
        ("w2".to_owned(), Some("h2".to_owned())),
        ("w3".to_owned(), None),
    ];
    r.brake(Some((3, 4)), &untrusted);
    r.brake(Some((3, 4)), &untrusted);
    let got = drain_all(&mut rx);
    let nodes: Vec<&str> = got.iter().map(|g| g.node.as_str()).collect();
    assert_eq!(nodes, ["w1", "w2"], "once each, and only with a host");
    assert!(got
        .iter()
        .all(|g| g.action == RemediationAction::HeldByBrake));
    assert!(got[0].detail.contains("3 of 4"), "{}", got[0].detail);
    r.brake(None, &[]);
    r.brake(Some((3, 4)), &untrusted[..1]);
    assert_eq!(drain_all(&mut rx).len(), 1, "a new hold reports again");
}

#[test]
fn without_a_hub_link_nothing_is_queued_and_a_full_queue_counts_its_drops() {
    let r = Remediations::default();
    r.patched(
        "w1",
        &Observed::default(),
        &desired(TrustState::Untrusted, Some("h1")),
        TaintEffect::NoSchedule,
    );
    r.drain_started("w1", Some("h1"));
    r.brake(Some((2, 2)), &[("w1".into(), Some("h1".into()))]);

    let (q, rx) = RemediationQueue::new();
    drop(rx);
    Remediations::new(Some(q.clone())).drain_started("w1", Some("h1"));
    assert_eq!(q.dropped(), 1);
}
