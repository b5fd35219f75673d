//! Kubernetes Node bindings: one host per Node name, rebinding, unbinding, a deleted host
//! freeing its Node, the list of bound hosts with their tags and latest report, and the
//! "re-read this host" events each change writes.

use super::{host, report};
use crate::store::{BindOutcome, FlavorRow, Store, TagRow, UnbindOutcome, Verdict};
use ironroot_api::TrustState::{self, Trusted, Unknown};

fn bound(previous: Option<&str>) -> BindOutcome {
    BindOutcome::Bound {
        previous: previous.map(str::to_owned),
    }
}

async fn nodes_of(store: &Store) -> Vec<(String, String)> {
    store
        .bound_hosts()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.node, b.host.host_id))
        .collect()
}

/// The events written since `after`, as (host, previous, trust, reason).
async fn events_since(store: &Store, after: i64) -> Vec<(String, TrustState, TrustState, String)> {
    store
        .events_after(after, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let e = e.event;
            (e.host_id, e.previous, e.trust, e.reasons.join("; "))
        })
        .collect()
}

/// Binding, the unique Node name, rebinding, unbinding, deletion freeing the Node.
pub(super) async fn bindings(store: &Store) {
    for (id, name) in [("k1", "kube-1"), ("k2", "kube-2"), ("k3", "kube-3")] {
        let ek = format!("ek-{id}");
        store
            .put_host(&host(id, name, ek.as_bytes()))
            .await
            .unwrap();
    }
    let start = store.latest_event_seq().await.unwrap();
    assert_eq!(
        store.bind_node("k1", "worker-1", 10).await.unwrap(),
        bound(None)
    );
    assert_eq!(
        store.host("k1").await.unwrap().unwrap().k8s_node.as_deref(),
        Some("worker-1")
    );
    assert_eq!(
        store.bind_node("k2", "worker-1", 11).await.unwrap(),
        BindOutcome::Taken {
            host_id: "k1".into(),
            hostname: "kube-1".into()
        },
        "a Node name is bound to one host"
    );
    assert_eq!(store.host("k2").await.unwrap().unwrap().k8s_node, None);
    assert_eq!(
        store.bind_node("k1", "worker-1", 12).await.unwrap(),
        bound(Some("worker-1")),
        "binding again is no change"
    );
    assert_eq!(
        store.bind_node("k1", "worker-9", 13).await.unwrap(),
        bound(Some("worker-1")),
        "a rebinding replaces"
    );
    assert_eq!(
        store.bind_node("k2", "worker-1", 14).await.unwrap(),
        bound(None)
    );
    assert_eq!(
        nodes_of(store).await,
        [
            ("worker-1".into(), "k2".into()),
            ("worker-9".into(), "k1".into())
        ],
        "only bound hosts, by Node name"
    );
    assert!(store.bound_host("k3").await.unwrap().is_none(), "unbound");
    assert!(store.bound_host("nobody").await.unwrap().is_none());
    assert_eq!(
        store.bind_node("nobody", "worker-5", 15).await.unwrap(),
        BindOutcome::UnknownHost
    );

    assert_eq!(
        store.unbind_node("k1", 16).await.unwrap(),
        UnbindOutcome::Unbound {
            node: "worker-9".into()
        }
    );
    assert_eq!(
        store.unbind_node("k1", 17).await.unwrap(),
        UnbindOutcome::NotBound
    );
    assert_eq!(
        store.unbind_node("nobody", 17).await.unwrap(),
        UnbindOutcome::UnknownHost
    );
    // Deleting a bound host frees its Node for another.
    assert!(store.delete_host("k2", 18).await.unwrap());
    assert_eq!(
        store.bind_node("k3", "worker-1", 19).await.unwrap(),
        bound(None)
    );
    assert_eq!(nodes_of(store).await, [("worker-1".into(), "k3".into())]);

    let t = |h: &str, r: &str| (h.to_owned(), Unknown, Unknown, r.to_owned());
    assert_eq!(
        events_since(store, start).await,
        [
            t("k1", "bound to Kubernetes node worker-1"),
            t("k1", "bound to Kubernetes node worker-9 (was worker-1)"),
            t("k2", "bound to Kubernetes node worker-1"),
            t("k1", "unbound from Kubernetes node worker-9"),
            t("k2", "unbound from Kubernetes node worker-1: host deleted"),
            t("k3", "bound to Kubernetes node worker-1"),
        ],
        "each change, and only a change, is an event whose previous is its trust"
    );
    let at: Vec<u64> = store
        .events_after(start, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event.at)
        .collect();
    assert_eq!(at, [10, 13, 14, 16, 18, 19]);
}

/// A bound host's tags (current, then revoked) and its latest report, with the events
/// tag changes write (carrying the host's trust state as it is).
pub(super) async fn tags_and_reports_of_bound_hosts(store: &Store) {
    store.upsert_group("automatic", "{}").await.unwrap();
    store
        .put_host(&host("k4", "kube-4", b"ek-k4"))
        .await
        .unwrap();
    store.bind_node("k4", "worker-4", 20).await.unwrap();
    let b = store.bound_host("k4").await.unwrap().unwrap();
    assert!(b.report.is_none() && b.trust_deadline.is_none());
    assert_eq!(b.host.tag_json, None);

    let verdict = Verdict {
        report: report("k4-r1", "k4", 30, true),
        deadline: Some(60),
        expected: None,
        hostname: "kube-4".into(),
        reasons: vec![],
    };
    store.write_verdicts(&[verdict]).await.unwrap();
    let start = store.latest_event_seq().await.unwrap();
    let tag = TagRow {
        serial: "k4-s1".into(),
        host_id: "k4".into(),
        certificate: "cert".into(),
        digest: "cd".repeat(32),
        tags_json: r#"{"region":"EU"}"#.into(),
        issued_at: 40,
        revoked_at: None,
    };
    let flavor = FlavorRow {
        flavor_id: "k4-tag-flavor".into(),
        part: "ASSET_TAG".into(),
        label: "asset tag k4-s1".into(),
        created: 40,
        flavor: "{}".into(),
    };
    store.issue_tag(&tag, &flavor, "automatic").await.unwrap();
    let b = store.bound_host("k4").await.unwrap().unwrap();
    assert_eq!(b.host.tag_json.as_deref(), Some(r#"{"region":"EU"}"#));
    assert_eq!(b.host.trust_state, Trusted);
    assert_eq!(b.trust_deadline, Some(60));
    let r = b.report.unwrap();
    assert_eq!(
        (r.report_id.as_str(), r.jws.as_str(), r.expires, r.trusted),
        ("k4-r1", "jws-k4-r1", 3630, true)
    );
    assert!(store.revoke_tag("k4", 50).await.unwrap());
    assert!(!store.revoke_tag("k4", 51).await.unwrap(), "nothing left");
    let b = store.bound_host("k4").await.unwrap().unwrap();
    assert_eq!(b.host.tag_json, None, "a revoked tag is not current");
    let t = |r: &str| ("k4".to_owned(), Trusted, Trusted, r.to_owned());
    assert_eq!(
        events_since(store, start).await,
        [t("asset tags changed"), t("asset tags revoked")]
    );
}

/// Two hosts bound to one Node at once: exactly one wins, the other learns who.
pub(super) async fn racing_bindings_of_one_node(store: &Store) {
    for round in 0..10 {
        let (a, b) = (format!("race-a{round}"), format!("race-b{round}"));
        store.put_host(&host(&a, &a, a.as_bytes())).await.unwrap();
        store.put_host(&host(&b, &b, b.as_bytes())).await.unwrap();
        let node = format!("racer-{round}");
        let (sa, sb) = (store.clone(), store.clone());
        let (na, nb) = (node.clone(), node.clone());
        let (ia, ib) = (a.clone(), b.clone());
        let ta = tokio::spawn(async move { sa.bind_node(&ia, &na, 1).await });
        let tb = tokio::spawn(async move { sb.bind_node(&ib, &nb, 1).await });
        let outcomes = [ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap()];
        let won: Vec<_> = outcomes.iter().filter(|o| **o == bound(None)).collect();
        assert_eq!(won.len(), 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, BindOutcome::Taken { host_id, .. }
                if *host_id == a || *host_id == b)),
            "round {round}: {outcomes:?}"
        );
        assert_eq!(
            store
                .bound_hosts()
                .await
                .unwrap()
                .iter()
                .filter(|h| h.node == node)
                .count(),
            1
        );
    }
}

/// The kubelet `podPidsLimit` reported with evidence: kept with the host, served with
/// the bound host, written (with a re-read event) only when it changes.
pub(super) async fn pod_pids_limits(store: &Store) {
    store
        .put_host(&host("k6", "kube-6", b"ek-k6"))
        .await
        .unwrap();
    store.bind_node("k6", "worker-6", 10).await.unwrap();
    async fn limit(store: &Store) -> Option<i64> {
        store
            .bound_host("k6")
            .await
            .unwrap()
            .unwrap()
            .pod_pids_limit
    }
    assert_eq!(limit(store).await, None);
    let start = store.latest_event_seq().await.unwrap();
    assert!(
        !store.set_pod_pids_limit("k6", None, 20).await.unwrap(),
        "none to none"
    );
    assert!(store
        .set_pod_pids_limit("k6", Some(4096), 21)
        .await
        .unwrap());
    assert!(!store
        .set_pod_pids_limit("k6", Some(4096), 22)
        .await
        .unwrap());
    assert_eq!(limit(store).await, Some(4096));
    assert!(store.set_pod_pids_limit("k6", Some(-1), 23).await.unwrap());
    assert!(store.set_pod_pids_limit("k6", None, 24).await.unwrap());
    assert_eq!(limit(store).await, None);
    let e = |r: &str| ("k6".to_owned(), Unknown, Unknown, r.to_owned());
    assert_eq!(
        events_since(store, start).await,
        [
            e("kubelet podPidsLimit changed from none to 4096"),
            e("kubelet podPidsLimit changed from 4096 to -1"),
            e("kubelet podPidsLimit changed from -1 to none"),
        ]
    );
    assert!(!store
        .set_pod_pids_limit("no-such-host", Some(1), 25)
        .await
        .unwrap());
    let all = store.bound_hosts().await.unwrap();
    let k6 = all.iter().find(|b| b.node == "worker-6").unwrap();
    assert_eq!(k6.pod_pids_limit, None);
}
