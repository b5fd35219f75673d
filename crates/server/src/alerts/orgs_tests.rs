//! Alerts and sinks by organisation against SQLite and a throwaway PostgreSQL cluster: a
//! host's trust loss is its owner's alert, notices reach only that organisation's sinks,
//! another organisation's alert or sink is not found and unchanged, a sink name is one
//! organisation's until deleted, and a subject given to another organisation starts a new
//! alert there.

use super::orgs::SinkPut;
use super::store::{ActionError, AlertFilter, Target};
use crate::identity::store::ObjectKind;
use crate::store::Store;
use ironroot_alerts::{AlertInput, AlertKey, Change, Occurrence, Remediation, Severity};
use ironroot_api::{SinkSpec, TrustEvent, TrustState, WebhookSink};
use ironroot_testkit::databases::{PgCluster, TempDir};

fn hook() -> SinkSpec {
    SinkSpec::Webhook(WebhookSink {
        url: "https://siem.example/in".into(),
        secret: None,
        ca_pem: None,
        min_severity: None,
    })
}

fn lost(host: &str, at: u64) -> TrustEvent {
    TrustEvent {
        host_id: host.into(),
        hostname: format!("{host}-name"),
        previous: TrustState::Trusted,
        trust: TrustState::Untrusted,
        at,
        report_id: None,
        report_jws: None,
        reasons: vec!["pcr 7 changed".into()],
    }
}

/// Logs `e` as the trust-event log does: the alert is raised in its transaction.
async fn trust_event(store: &Store, e: &TrustEvent) {
    let mut tx = store.begin_write().await.unwrap();
    super::on_trust_event(&mut tx, e).await.unwrap();
    tx.commit().await.unwrap();
}

async fn ids(store: &Store, org: Option<&str>) -> Vec<String> {
    let f = AlertFilter {
        org: org.map(str::to_owned),
        limit: 100,
        ..Default::default()
    };
    let got = store.alerts(&f).await.unwrap();
    got.into_iter().map(|a| a.id).collect()
}

async fn scenario(store: Store) {
    sqlx::query("INSERT INTO organisations (id, created) VALUES ('red', 0), ('blue', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    for org in ["red", "blue"] {
        let host = format!("h-{org}");
        store.set_owner(ObjectKind::Host, &host, org).await.unwrap();
        let (name, spec) = (format!("{org}-siem"), hook());
        let put = store.put_sink(&name, &spec, None, 1, Some(org)).await;
        assert_eq!(put.unwrap(), SinkPut::Stored);
    }
    // The platform's sink (the bootstrap credential's) is `default`'s.
    let put = store.put_sink("platform", &hook(), None, 1, None).await;
    assert_eq!(put.unwrap(), SinkPut::Stored);
    // A name is its owner's: another organisation cannot take or replace it.
    let taken = store
        .put_sink("red-siem", &hook(), None, 2, Some("blue"))
        .await;
    assert_eq!(taken.unwrap(), SinkPut::Taken);
    assert!(!store.delete_sink("red-siem", Some("blue")).await.unwrap());
    assert_eq!(
        store.owner(ObjectKind::Sink, "red-siem").await.unwrap(),
        "red"
    );

    trust_event(&store, &lost("h-red", 10)).await;
    trust_event(&store, &lost("h-blue", 20)).await;
    let (red, blue) = (
        ids(&store, Some("red")).await,
        ids(&store, Some("blue")).await,
    );
    assert_eq!((red.len(), blue.len()), (1, 1));
    assert_eq!(ids(&store, None).await, [blue[0].clone(), red[0].clone()]);
    assert!(ids(&store, Some("default")).await.is_empty());
    // Each notice went to its own organisation's sink only.
    for (sink, pending) in [("red-siem", 1), ("blue-siem", 1), ("platform", 0)] {
        assert_eq!(store.sink_backlog(sink).await.unwrap().0, pending, "{sink}");
    }

    // Red cannot read or act on blue's alert: not found, and it stays open.
    assert!(store.alert(&blue[0], Some("red")).await.unwrap().is_none());
    assert!(store.alert(&blue[0], Some("blue")).await.unwrap().is_some());
    let ack = AlertInput::Acknowledge {
        by: "mallory".into(),
        at: 30,
    };
    let refused = store
        .transition_alert(Target::IdIn(&blue[0], "red"), ack.clone(), 30)
        .await;
    assert!(matches!(refused, Err(ActionError::NotFound)), "{refused:?}");
    let still = store.alert(&blue[0], None).await.unwrap().unwrap();
    assert_eq!(still.state, "open");
    let done = store
        .transition_alert(Target::IdIn(&blue[0], "blue"), ack, 31)
        .await
        .unwrap();
    assert_eq!(done.change, Change::Acknowledged);

    // Blue's host given to red: its next loss is a new alert of red's, told to red only.
    store
        .set_owner(ObjectKind::Host, "h-blue", "red")
        .await
        .unwrap();
    trust_event(&store, &lost("h-blue", 40)).await;
    assert!(ids(&store, Some("blue")).await.is_empty());
    let red_now = ids(&store, Some("red")).await;
    assert_eq!(red_now.len(), 2);
    assert!(!red_now.contains(&blue[0]), "a new id: {red_now:?}");
    let moved = store
        .alert(&red_now[0], Some("red"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.count, moved.state.as_str()), (1, "open"));
    // (An acknowledgement is not announced: blue's sink still holds one notice.)
    assert_eq!(store.sink_backlog("red-siem").await.unwrap().0, 2);
    assert_eq!(store.sink_backlog("blue-siem").await.unwrap().0, 1);

    // A cluster's alert is raised in the organisation the caller names.
    let key = AlertKey::policy_violation("no-privileged", "east", "apps/Pod/x").unwrap();
    let o = Occurrence {
        severity: Severity::Medium,
        title: "violation".into(),
        details: String::new(),
        remediation: Remediation::None,
        at: 50,
    };
    let c = store.raise_alert(&key, &o, "blue").await.unwrap();
    assert_eq!(ids(&store, Some("blue")).await, [c.id]);
    assert_eq!(store.sink_backlog("blue-siem").await.unwrap().0, 2);

    // Deleting frees the name.
    assert!(store.delete_sink("red-siem", Some("red")).await.unwrap());
    let put = store
        .put_sink("red-siem", &hook(), None, 3, Some("blue"))
        .await;
    assert_eq!(put.unwrap(), SinkPut::Stored);
    assert_eq!(
        store.owner(ObjectKind::Sink, "red-siem").await.unwrap(),
        "blue"
    );
}

#[tokio::test]
async fn alerts_and_sinks_by_organisation_on_sqlite() {
    let dir = TempDir::new("alerts-orgs");
    scenario(Store::open_sqlite(&dir.path().join("db")).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_sinks_by_organisation_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    scenario(Store::open_postgres(&pg.url()).await.unwrap()).await;
}
