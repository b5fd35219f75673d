//! What clusters report becomes audit entries, on SQLite and a throwaway PostgreSQL:
//! `workload.bound` with the bound host's trust and latest report at receipt (and an
//! unbound Node recorded as such), `admission.decision` / `policy.finding` per violation
//! and `remediation` per report, each written in the transaction of the alert it goes
//! with, so a write that fails leaves neither. Plus the batch's limits (pure).

use super::alerting::raise_logged;
use super::remediations::record_remediation;
use super::workloads::{check_batch, record_workloads};
use super::CallingCluster;
use crate::alerts::Amended;
use crate::audit::{entries, NewEntry};
use crate::error::ServiceError;
use crate::store::{HostRow, ReportRow, Store, Verdict};
use ironroot_alerts::{AlertKey, Occurrence, Remediation, Severity};
use ironroot_api::{
    ObjectRef, RemediationAction, RemediationReport, ViolationAction, ViolationEvent,
    WorkloadBatch, WorkloadBinding, WorkloadImage, MAX_WORKLOAD_BATCH, MAX_WORKLOAD_IMAGES,
};
use ironroot_testkit::databases::{PgCluster, TempDir};
use serde_json::json;

const JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJ0IjoxfQ.c2ln";

fn cluster() -> CallingCluster {
    CallingCluster {
        id: "cl-1".into(),
        name: "east".into(),
        serial: "01".into(),
    }
}

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn binding(ns: &str, pod: &str, node: &str) -> WorkloadBinding {
    WorkloadBinding {
        namespace: ns.into(),
        pod: pod.into(),
        uid: format!("uid-{}", pod.replace('.', "-")),
        node: node.into(),
        images: vec![WorkloadImage {
            container: "app".into(),
            image: "registry.local:5000/app:1".into(),
            digest: Some(digest('a')),
        }],
        at: 77,
    }
}

fn refused(b: &WorkloadBatch) -> String {
    match check_batch(b) {
        Err(ServiceError::BadRequest(m)) => m,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn workload_batches_within_the_contract_pass_and_beyond_it_are_refused_saying_why() {
    let one = |w: WorkloadBinding| WorkloadBatch { workloads: vec![w] };
    assert!(check_batch(&one(binding("apps", "web-1.x", "node-1"))).is_ok());
    let many = WorkloadBatch {
        workloads: vec![binding("apps", "p", "n"); MAX_WORKLOAD_BATCH + 1],
    };
    assert!(refused(&many).contains("at most 500 records"));
    assert!(refused(&one(binding("Apps", "p", "n"))).contains("DNS-1123"));
    assert!(refused(&one(binding("apps", "p\n", "n"))).contains("pod name"));
    assert!(refused(&one(binding("apps", "p", "node_1"))).contains("node name"));
    let mut w = binding("apps", "p", "n");
    w.uid = "a/b".into();
    assert!(refused(&one(w)).contains("uid"));
    let mut w = binding("apps", "p", "n");
    w.images[0].digest = Some("sha256:ABC".into());
    assert!(refused(&one(w)).contains("digest"));
    let mut w = binding("apps", "p", "n");
    w.images = vec![w.images[0].clone(); MAX_WORKLOAD_IMAGES + 1];
    assert!(refused(&one(w)).contains("at most 32 containers"));
    let mut w = binding("apps", "p", "n");
    w.images[0].image = "x\u{7}".into();
    assert!(refused(&one(w)).contains("image reference"));
    let mut w = binding("apps", "p", "n");
    w.images[0].digest = None;
    assert!(check_batch(&one(w)).is_ok(), "a digest not known yet");
}

/// A host as enrollment leaves it, named `<id>-name`.
fn host(id: &str) -> HostRow {
    crate::nodes::tests::host(id, &format!("{id}-name"))
}

/// Host `h1`, trusted by report `r1` until far ahead, bound to Node `node-1`.
async fn trusted_host_on_node_1(store: &Store) {
    store.upsert_group("automatic", "{}").await.unwrap();
    store.put_host(&host("h1")).await.unwrap();
    store.bind_node("h1", "node-1", 5).await.unwrap();
    let report = ReportRow {
        report_id: "r1".into(),
        host_id: "h1".into(),
        created: 10,
        expires: u64::MAX / 4,
        trusted: true,
        report: "{}".into(),
        jws: JWS.into(),
    };
    let v = Verdict {
        report,
        deadline: Some(u64::MAX / 4),
        expected: None,
        hostname: "h1-name".into(),
        reasons: vec![],
    };
    store.write_verdicts(&[v]).await.unwrap();
}

/// The entries appended after `from`.
async fn entries_from(store: &Store, from: u64) -> Vec<ironroot_api::AuditEntry> {
    store.audit_entries(from..u64::MAX / 2, None).await.unwrap()
}

async fn workloads_are_logged_with_their_nodes_trust(store: &Store) {
    trusted_host_on_node_1(store).await;
    let start = store.audit_size().await.unwrap();
    let batch = WorkloadBatch {
        workloads: vec![
            binding("apps", "web-1", "node-1"),
            binding("apps", "web-2", "node-9"),
        ],
    };
    let receipt = record_workloads(store, &cluster(), &batch, 1_000)
        .await
        .unwrap();
    assert_eq!((receipt.recorded, receipt.unbound), (2, 1));
    let got = entries_from(store, start).await;
    assert_eq!(got.len(), 2);
    let (bound, unbound) = (&got[0], &got[1]);
    assert_eq!(bound.kind, "workload.bound");
    assert_eq!(bound.actor, "cluster/cl-1");
    assert_eq!(bound.subject, "pod/cl-1/apps/web-1");
    assert_eq!(bound.at, 1_000, "the hub's receipt time");
    let jws_sha = hex::encode(ironroot_crypto::digest(
        ironroot_crypto::HashAlg::Sha256,
        JWS.as_bytes(),
    ));
    assert_eq!(
        bound.body,
        json!({
            "cluster_id": "cl-1", "cluster_name": "east", "namespace": "apps", "pod": "web-1",
            "pod_uid": "uid-web-1", "node": "node-1", "observed_at": 77,
            "images": [{ "container": "app", "image": "registry.local:5000/app:1", "digest": digest('a') }],
            "host_id": "h1", "hostname": "h1-name", "trust_state": "trusted",
            "report_id": "r1", "report_jws_sha256": jws_sha,
        })
    );
    assert_eq!(unbound.subject, "pod/cl-1/apps/web-2");
    assert_eq!(unbound.body["node"], "node-9");
    assert_eq!(unbound.body["host_id"], serde_json::Value::Null);
    assert_eq!(unbound.body["trust_state"], "unknown");
    assert_eq!(unbound.body["report_jws_sha256"], serde_json::Value::Null);
}

fn violation(name: &str, action: ViolationAction) -> ViolationEvent {
    ViolationEvent {
        policy: "no-privileged".into(),
        object: ObjectRef {
            namespace: "apps".into(),
            kind: "Pod".into(),
            name: name.into(),
        },
        message: "privileged container c".into(),
        action,
        at: 9,
    }
}

fn occurrence(remediation: Remediation) -> Occurrence {
    Occurrence {
        severity: Severity::High,
        title: "t".into(),
        details: String::new(),
        remediation,
        at: 20,
    }
}

/// An entry the log refuses (a fraction is no canonical JSON): its append fails last.
fn unloggable() -> NewEntry {
    NewEntry {
        at: 1,
        kind: "remediation",
        actor: "cluster/cl-1".into(),
        subject: "x".into(),
        body: json!({ "n": 1.5 }),
    }
}

async fn alert_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn violations_are_logged_with_their_alerts_or_not_at_all(store: &Store) {
    let c = cluster();
    let key = |n: &str| AlertKey::policy_violation("no-privileged", "east", n).unwrap();
    let alerts_before = alert_count(store).await;
    let start = store.audit_size().await.unwrap();
    // The append fails after the alert was raised: the transaction takes both back.
    let failed = raise_logged(
        store,
        "default",
        &[(key("apps/Pod/bad"), occurrence(Remediation::Deny))],
        &[unloggable()],
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(
        alert_count(store).await,
        alerts_before,
        "no alert without its entry"
    );
    assert_eq!(store.audit_size().await.unwrap(), start, "no entry");

    let events = [
        violation("bad", ViolationAction::Denied),
        violation("warned", ViolationAction::Admitted),
        violation("running", ViolationAction::Found),
    ];
    let logged: Vec<NewEntry> = events
        .iter()
        .map(|v| entries::admission_decision(&c, v, 1_100))
        .collect();
    let raises: Vec<_> = events
        .iter()
        .map(|v| {
            (
                key(&format!("apps/Pod/{}", v.object.name)),
                occurrence(Remediation::None),
            )
        })
        .collect();
    raise_logged(store, "default", &raises, &logged)
        .await
        .unwrap();
    assert_eq!(alert_count(store).await, alerts_before + 3);
    let got = entries_from(store, start).await;
    let kinds: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.subject.as_str(),
                e.body["decision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("admission.decision", "pod/cl-1/apps/bad", "denied"),
            ("admission.decision", "pod/cl-1/apps/warned", "admitted"),
            ("policy.finding", "pod/cl-1/apps/running", "found"),
        ]
    );
    assert_eq!(got[0].actor, "cluster/cl-1");
    assert_eq!(
        got[0].body,
        json!({
            "cluster_id": "cl-1", "cluster_name": "east", "policy": "no-privileged",
            "decision": "denied", "namespace": "apps", "object_kind": "Pod", "name": "bad",
            "observed_at": 9,
        }),
        "identifiers only: the message is not logged"
    );
}

async fn remediations_are_logged_with_their_amendment_or_not_at_all(store: &Store) {
    let c = cluster();
    let key = AlertKey::trust_loss("h1").unwrap();
    raise_logged(
        store,
        "default",
        &[(key.clone(), occurrence(Remediation::None))],
        &[],
    )
    .await
    .unwrap();
    let r = RemediationReport {
        host_id: "h1".into(),
        node: "node-1".into(),
        action: RemediationAction::Drain,
        at: 15,
        detail: "drained".into(),
    };
    let next = |_: &ironroot_alerts::Alert| Some(occurrence(Remediation::Drain));
    let remediation_of = |store: &Store| {
        let store = store.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT remediation FROM alerts WHERE subject = $1")
                .bind("host/h1")
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    let start = store.audit_size().await.unwrap();
    let failed = record_remediation(store, &key, &next, &|_| unloggable()).await;
    assert!(failed.is_err());
    assert_eq!(
        remediation_of(store).await,
        "none",
        "the amendment was taken back"
    );
    assert_eq!(store.audit_size().await.unwrap(), start);

    let log = |a: &Amended| {
        let id = match a {
            Amended::Changed(ch) => Some(ch.id.as_str()),
            _ => None,
        };
        entries::remediation(&c, &r, id.is_some(), id, 1_200)
    };
    let Amended::Changed(changed) = record_remediation(store, &key, &next, &log).await.unwrap()
    else {
        panic!("not amended")
    };
    assert_eq!(remediation_of(store).await, "drain");
    let got = entries_from(store, start).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (
            got[0].kind.as_str(),
            got[0].actor.as_str(),
            got[0].subject.as_str()
        ),
        ("remediation", "cluster/cl-1", "host/h1")
    );
    assert_eq!(
        got[0].body,
        json!({
            "cluster_id": "cl-1", "cluster_name": "east", "host_id": "h1", "node": "node-1",
            "action": "drain", "observed_at": 15, "recorded": true, "alert_id": changed.id,
        })
    );
}

async fn scenario(store: Store) {
    workloads_are_logged_with_their_nodes_trust(&store).await;
    violations_are_logged_with_their_alerts_or_not_at_all(&store).await;
    remediations_are_logged_with_their_amendment_or_not_at_all(&store).await;
}

#[tokio::test]
async fn hub_audit_entries_on_sqlite() {
    let dir = TempDir::new("hub-audit");
    let store = Store::open_sqlite(&dir.path().join("hub.db"))
        .await
        .unwrap();
    scenario(store).await;
}

#[tokio::test]
async fn hub_audit_entries_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open_postgres(&pg.url()).await.unwrap();
    scenario(store).await;
}
