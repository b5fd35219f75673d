//! The alert store and outbox against SQLite and a throwaway PostgreSQL cluster: raising
//! deduplicates and counts, notices are queued once per sink in the raising transaction,
//! claims are exclusive and keep each sink's order, and illegal actions change nothing.

use super::outbox::LEASE_MS;
use super::routes::AlertQuery;
use super::store::{ActionError, AlertFilter, Target};
use crate::store::Store;
use ironroot_alerts::{AlertInput, AlertKey, Change, Occurrence, Remediation, Resolver, Severity};
use ironroot_api::{SinkSpec, WebhookSink};
use ironroot_testkit::databases::{PgCluster, TempDir};

fn occurrence(at: u64, severity: Severity) -> Occurrence {
    Occurrence {
        severity,
        title: "host n1 is untrusted".into(),
        details: "PLATFORM: no flavor".into(),
        remediation: Remediation::None,
        at,
    }
}

fn hook(min: Option<Severity>) -> SinkSpec {
    SinkSpec::Webhook(WebhookSink {
        url: "https://siem.example/in".into(),
        secret: None,
        ca_pem: None,
        min_severity: min,
    })
}

async fn scenario(store: Store) {
    store
        .put_sink("all", &hook(None), Some(b"sealed"), 1, None)
        .await
        .unwrap();
    store
        .put_sink(
            "critical-only",
            &hook(Some(Severity::Critical)),
            None,
            1,
            None,
        )
        .await
        .unwrap();
    let key = AlertKey::trust_loss("h1").unwrap();
    let first = store
        .raise_alert(&key, &occurrence(100, Severity::High), "default")
        .await
        .unwrap();
    assert_eq!(first.change, Change::Opened);
    let again = store
        .raise_alert(&key, &occurrence(105, Severity::High), "default")
        .await
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.change),
        (first.id.as_str(), Change::Repeated)
    );
    assert_eq!(again.alert.count, 2);

    // Two notices for "all"; none for "critical-only" (the alert is high).
    assert_eq!(store.sink_backlog("all").await.unwrap().0, 2);
    assert_eq!(store.sink_backlog("critical-only").await.unwrap().0, 0);

    let ack = AlertInput::Acknowledge {
        by: "alice".into(),
        at: 110,
    };
    let c = store
        .transition_alert(Target::Id(&first.id), ack.clone(), 110)
        .await
        .unwrap();
    assert_eq!(c.change, Change::Acknowledged);
    let twice = store
        .transition_alert(Target::Id(&first.id), ack, 111)
        .await;
    assert!(matches!(twice, Err(ActionError::Illegal(_))), "{twice:?}");
    let none = store
        .transition_alert(
            Target::Id("al-none"),
            AlertInput::Resolve {
                by: Resolver::Automatic,
                at: 1,
            },
            1,
        )
        .await;
    assert!(matches!(none, Err(ActionError::NotFound)));
    // Acknowledged: counted, not announced.
    let quiet = store
        .raise_alert(&key, &occurrence(120, Severity::High), "default")
        .await
        .unwrap();
    assert_eq!(quiet.change, Change::RepeatedWhileAcknowledged);
    assert_eq!(store.sink_backlog("all").await.unwrap().0, 2);
    let resolve = AlertInput::Resolve {
        by: Resolver::Automatic,
        at: 130,
    };
    store
        .transition_alert(Target::Key(&key), resolve, 130)
        .await
        .unwrap();
    assert_eq!(store.sink_backlog("all").await.unwrap().0, 3);

    let other = AlertKey::trust_loss("h2").unwrap();
    store
        .raise_alert(&other, &occurrence(140, Severity::Critical), "default")
        .await
        .unwrap();
    assert_eq!(store.sink_backlog("critical-only").await.unwrap().0, 1);

    // Filters and pages.
    let f = |state: Option<&str>, min: Option<Severity>| AlertFilter {
        state: state.map(str::to_owned),
        min_severity: min,
        limit: 10,
        ..Default::default()
    };
    let all = store.alerts(&f(None, None)).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.subject.as_str()).collect::<Vec<_>>(),
        ["host/h2", "host/h1"]
    );
    assert_eq!(
        store
            .alerts(&f(Some("resolved"), None))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .alerts(&f(None, Some(Severity::Critical)))
            .await
            .unwrap()
            .len(),
        1
    );
    let page = AlertFilter {
        limit: 1,
        after: Some((all[0].last_seen, all[0].id.clone())),
        ..Default::default()
    };
    assert_eq!(store.alerts(&page).await.unwrap()[0].id, first.id);

    // Claims: exclusive while leased, in order, and a failure keeps the row.
    let now = 1_000_000;
    let claimed = store.claim_due(now, 100, &[]).await.unwrap();
    let seqs: Vec<i64> = claimed
        .iter()
        .filter(|p| p.sink == "all")
        .map(|p| p.seq)
        .collect();
    assert_eq!(seqs.len(), 4);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(
        store.claim_due(now + 1, 100, &[]).await.unwrap().is_empty(),
        "leased"
    );
    let changes: Vec<Change> = claimed
        .iter()
        .filter(|p| p.sink == "all")
        .map(|p| p.notice.change)
        .collect();
    assert_eq!(
        changes,
        [
            Change::Opened,
            Change::Repeated,
            Change::Resolved,
            Change::Opened
        ]
    );
    // A new notice for "all" waits while older ones are leased (by another replica).
    store
        .raise_alert(&other, &occurrence(150, Severity::Critical), "default")
        .await
        .unwrap();
    let skip = ["critical-only".to_owned()];
    assert!(store
        .claim_due(now + 2, 100, &skip)
        .await
        .unwrap()
        .is_empty());
    store.mark_delivered(seqs[0], 2).await.unwrap();
    // As the worker does after a failure: the failed notice and every later one go back.
    for seq in &seqs[1..] {
        store
            .mark_failed(*seq, now + 5_000, "refused")
            .await
            .unwrap();
    }
    let later = store.claim_due(now + 3, 100, &skip).await.unwrap();
    assert_eq!(
        later.iter().map(|p| p.seq).collect::<Vec<_>>()[..3],
        seqs[1..]
    );
    assert_eq!(
        (later.len(), later[0].attempts, later[3].attempts),
        (4, 1, 0)
    );
    assert_eq!(
        store.sink_backlog("all").await.unwrap(),
        (4, Some("refused".into()))
    );
    // An expired lease (a replica that died mid-send) is taken over.
    let again = store
        .claim_due(now + 3 + LEASE_MS, 100, &skip)
        .await
        .unwrap();
    assert_eq!(again.len(), 4);

    assert!(store.delete_sink("all", None).await.unwrap());
    assert!(!store.delete_sink("all", None).await.unwrap());
    assert_eq!(store.sinks().await.unwrap().len(), 1);
}

/// Violations filtered by policy, cluster, namespace, source and subject prefix, and
/// time: exact segments, and `%` or `_` in a filter matching only themselves.
async fn filters(store: Store) {
    let violation = |policy: &str, cluster: &str, object: &str, at: u64| {
        let key = AlertKey::policy_violation(policy, cluster, object).unwrap();
        let store = store.clone();
        async move {
            store
                .raise_alert(&key, &occurrence(at, Severity::Medium), "default")
                .await
                .unwrap()
        }
    };
    violation("no-privileged", "eu-1", "payments/Pod/api", 10).await;
    violation("no-privileged", "eu-10", "payments/Pod/api", 20).await;
    violation("non-root", "eu-1", "shop/Deployment/web", 30).await;
    violation("no-privileged-x", "us_1", "pay%/Pod/db", 40).await;
    store
        .raise_alert(
            &AlertKey::trust_loss("h1").unwrap(),
            &occurrence(50, Severity::High),
            "default",
        )
        .await
        .unwrap();
    let subjects = |q: serde_json::Value| {
        let store = store.clone();
        async move {
            let f: AlertQuery = serde_json::from_value(q).unwrap();
            let f = f.filter().unwrap();
            let got = store.alerts(&f).await.unwrap();
            got.into_iter()
                .map(|a| format!("{} {}", a.source, a.subject))
                .collect::<Vec<_>>()
        }
    };
    use serde_json::json;
    assert_eq!(
        subjects(json!({"policy": "no-privileged"})).await,
        [
            "policy/no-privileged cluster/eu-10/payments/Pod/api",
            "policy/no-privileged cluster/eu-1/payments/Pod/api"
        ]
    );
    assert_eq!(
        subjects(json!({"cluster": "eu-1"})).await,
        [
            "policy/non-root cluster/eu-1/shop/Deployment/web",
            "policy/no-privileged cluster/eu-1/payments/Pod/api"
        ]
    );
    assert_eq!(
        subjects(json!({"cluster": "eu-1", "namespace": "shop"})).await,
        ["policy/non-root cluster/eu-1/shop/Deployment/web"]
    );
    assert_eq!(subjects(json!({"source": "policy/"})).await.len(), 4);
    assert_eq!(
        subjects(json!({"source": "trust"})).await,
        ["trust host/h1"]
    );
    // Wildcards are text: `_` is not "any character", `%` not "anything".
    assert!(subjects(json!({"subject": "cluster/eu_1/"}))
        .await
        .is_empty());
    assert!(subjects(json!({"subject": "cluster/%"})).await.is_empty());
    assert_eq!(
        subjects(json!({"subject": "cluster/us_1/pay%/"})).await,
        ["policy/no-privileged-x cluster/us_1/pay%/Pod/db"]
    );
    // Case matters in both databases.
    assert!(subjects(json!({"subject": "CLUSTER/"})).await.is_empty());
    assert_eq!(
        subjects(json!({"source": "policy/", "since": 15, "until": 30})).await,
        [
            "policy/non-root cluster/eu-1/shop/Deployment/web",
            "policy/no-privileged cluster/eu-10/payments/Pod/api"
        ]
    );
    // Filters combine with pages.
    let first = subjects(json!({"source": "policy/", "limit": 1})).await;
    assert_eq!(first, ["policy/no-privileged-x cluster/us_1/pay%/Pod/db"]);
}

#[test]
fn filters_that_cannot_name_a_violation_part_are_refused() {
    let refused = |q: serde_json::Value| {
        let f: AlertQuery = serde_json::from_value(q).unwrap();
        f.filter().is_err()
    };
    use serde_json::json;
    assert!(
        refused(json!({"namespace": "shop"})),
        "namespace without cluster"
    );
    assert!(refused(json!({"cluster": "eu/1"})));
    assert!(refused(json!({"policy": "a/b"})));
    assert!(refused(json!({"subject": "cluster/\n"})));
    assert!(refused(json!({"source": "x".repeat(513)})));
    assert!(!refused(
        json!({"cluster": "eu-1", "namespace": "shop", "policy": "p"})
    ));
    assert!(!refused(json!({"subject": "cluster/%_/"})));
}

#[tokio::test]
async fn alerts_on_sqlite() {
    let dir = TempDir::new("alerts-store");
    scenario(Store::open_sqlite(&dir.path().join("db")).await.unwrap()).await;
}

#[tokio::test]
async fn filters_on_sqlite() {
    let dir = TempDir::new("alerts-filters");
    filters(Store::open_sqlite(&dir.path().join("db")).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    filters(Store::open_postgres(&pg.url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    scenario(Store::open_postgres(&pg.url()).await.unwrap()).await;
}
