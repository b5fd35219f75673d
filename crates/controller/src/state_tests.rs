use super::*;
use ironroot_api::TrustState;

fn nt(host: &str, hostname: &str, node: &str, trust: TrustState) -> NodeTrust {
    NodeTrust {
        host_id: host.into(),
        hostname: hostname.into(),
        hardware_uuid: String::new(),
        node: node.into(),
        trust,
        trust_expires_at: Some(u64::MAX),
        asset_tags: Default::default(),
        report_id: None,
        report_jws: None,
        report_expires: None,
        failures: vec![],
        pod_pids_limit: None,
    }
}

async fn take(s: &State) -> Batch {
    tokio::time::timeout(std::time::Duration::from_secs(1), s.dirty().take())
        .await
        .expect("work was marked")
}

#[tokio::test]
async fn nothing_is_decided_before_the_first_read() {
    let s = State::default();
    assert_eq!(s.desired("worker-1", 0), None);
    assert_eq!(s.view("worker-1").trust, TrustState::Unknown);
    s.set_current(false);
    s.replace_all(vec![nt("h1", "worker-1", "worker-1", TrustState::Trusted)]);
    assert_eq!(
        take(&s).await,
        Batch::All,
        "the first read reconciles every node"
    );
    assert_eq!(s.view("worker-1").trust, TrustState::Trusted);
}

#[tokio::test]
async fn a_host_named_like_another_node_lends_it_nothing() {
    let s = State::default();
    // The attacker's host calls itself worker-2, but an administrator bound it to worker-3.
    s.replace_all(vec![
        nt("real", "worker-2", "worker-2", TrustState::Untrusted),
        nt("attacker", "worker-2", "worker-3", TrustState::Trusted),
    ]);
    take(&s).await;
    assert_eq!(s.view("worker-2").trust, TrustState::Untrusted);
    assert_eq!(s.view("worker-3").trust, TrustState::Trusted);
    // An unbound node stays unknown whatever hosts call themselves.
    assert_eq!(s.view("worker-9").trust, TrustState::Unknown);
}

#[tokio::test]
async fn changes_mark_the_nodes_they_touch() {
    let s = State::default();
    s.replace_all(vec![nt("h1", "a", "worker-1", TrustState::Trusted)]);
    take(&s).await;
    // Rebinding moves the host: both the old and the new Node change.
    s.upsert("h1", Some(nt("h1", "a", "worker-2", TrustState::Trusted)));
    assert_eq!(
        take(&s).await,
        Batch::Some(["worker-1".to_string(), "worker-2".to_string()].into())
    );
    assert_eq!(s.view("worker-1").trust, TrustState::Unknown);
    // Unbinding.
    s.upsert("h1", None);
    assert_eq!(take(&s).await, Batch::Some(["worker-2".to_string()].into()));
    assert_eq!(s.view("worker-2").trust, TrustState::Unknown);
    // A full read that changes nothing marks nothing.
    s.replace_all(vec![nt("h2", "b", "worker-5", TrustState::Trusted)]);
    take(&s).await;
    s.replace_all(vec![nt("h2", "b", "worker-5", TrustState::Trusted)]);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), s.dirty().take())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn losing_the_service_makes_every_node_unknown() {
    let s = State::default();
    s.replace_all(vec![nt("h1", "a", "worker-1", TrustState::Trusted)]);
    take(&s).await;
    s.set_current(false);
    assert_eq!(take(&s).await, Batch::All);
    assert_eq!(s.view("worker-1").trust, TrustState::Unknown);
    s.replace_all(vec![nt("h1", "a", "worker-1", TrustState::Trusted)]);
    assert_eq!(take(&s).await, Batch::All);
    assert_eq!(s.view("worker-1").trust, TrustState::Trusted);
}
