//! The hub's aggregation and CSV export (pure), and its store on SQLite and a throwaway
//! PostgreSQL cluster: registration's unique names, versions taken once, history rows
//! only on change, filters, and the outage compare-and-set.

use super::overview::{csv, csv_field, overview, status_of, Clock, Statuses};
use super::store::{ClusterRow, HistoryFilter, PolicyMeta, StatusRow, VersionRow};
use super::{is_dns_label, CallingCluster};
use crate::store::Store;
use ironroot_api::ComplianceStatus::*;
use ironroot_api::{ComplianceChange, ComplianceReport, PolicyCompliance, PolicyVersion};
use ironroot_testkit::databases::{PgCluster, TempDir};

const CLOCK: Clock = Clock {
    now: 10_000,
    stale_secs: 180,
};

fn cluster(id: &str, last_report_at: Option<u64>) -> ClusterRow {
    ClusterRow {
        id: id.into(),
        name: format!("{id}-name"),
        cert_serial: format!("serial-{id}"),
        prev_cert_serial: None,
        cert_not_after: 99_999,
        registered_at: 1,
        policy_version: None,
        last_report_at,
        webhook_serving: None,
    }
}

pub(super) fn version(n: u64, ids: &[&str]) -> VersionRow {
    VersionRow {
        version: PolicyVersion {
            version: n,
            sha256: "00".into(),
            by: "alice".into(),
            at: 5,
            comment: None,
            policies: ids.iter().map(|s| s.to_string()).collect(),
        },
        policies: ids
            .iter()
            .map(|id| PolicyMeta {
                id: id.to_string(),
                severity: "high".into(),
                description: format!("{id} holds"),
            })
            .collect(),
    }
}

fn row(c: &str, p: &str, v: u64, status: ironroot_api::ComplianceStatus, n: u64) -> StatusRow {
    StatusRow {
        cluster_id: c.into(),
        policy: p.into(),
        policy_version: v,
        status,
        violations: n,
        reported_at: 9_990,
    }
}

#[test]
fn a_cluster_is_pending_until_it_reports_under_the_current_version_and_unknown_once_overdue() {
    let rows = [
        row("a", "p", 2, NonCompliant, 3),
        row("b", "p", 1, Compliant, 0),
    ];
    let rows = Statuses::new(&rows);
    let s = |c: &ClusterRow| status_of(c, "p", 2, &rows, CLOCK).status;
    assert_eq!(s(&cluster("never", None)), Pending);
    assert_eq!(s(&cluster("a", Some(9_990))), NonCompliant);
    assert_eq!(
        s(&cluster("b", Some(9_990))),
        Pending,
        "reported under version 1"
    );
    assert_eq!(s(&cluster("a", Some(10_000 - 181))), Unknown, "overdue");
    assert_eq!(
        s(&cluster("a", Some(10_000 - 180))),
        NonCompliant,
        "at the bound"
    );
    assert_eq!(
        status_of(&cluster("a", Some(9_990)), "q", 2, &rows, CLOCK).status,
        Pending
    );
}

#[test]
fn the_overview_takes_the_worst_cluster_per_policy_and_the_worst_policy_overall() {
    let v = version(2, &["p", "q", "r", "s"]);
    let clusters = [
        cluster("a", Some(9_990)),
        cluster("b", Some(9_990)),
        cluster("c", Some(1)),
    ];
    let rows = [
        row("a", "p", 2, Compliant, 0),
        row("b", "p", 2, NonCompliant, 4),
        row("a", "q", 2, Compliant, 0),
        row("b", "q", 2, Compliant, 0),
        row("a", "r", 2, Compliant, 0),
        row("b", "r", 2, Compliant, 0),
        row("c", "p", 2, Compliant, 0),
        row("c", "q", 2, Compliant, 0),
        row("c", "r", 2, Compliant, 0),
        row("c", "s", 2, Compliant, 0),
        row("a", "s", 2, Compliant, 0),
    ];
    let o = overview(Some(&v), &clusters, &rows, CLOCK);
    let by = |id: &str| o.policies.iter().find(|p| p.policy == id).unwrap();
    // p: NonCompliant beats the overdue (Unknown) cluster c.
    assert_eq!(by("p").status, NonCompliant);
    assert_eq!(by("p").clusters[1].violations, 4);
    // q, r: a and b compliant, c overdue: Unknown.
    assert_eq!(by("q").status, Unknown);
    // s: b never reported s under version 2: Pending beats Unknown.
    assert_eq!(by("s").status, Pending);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(o.policy_version, Some(2));
    assert_eq!(by("p").severity, "high");

    let all_good = [cluster("a", Some(9_990))];
    let rows = [row("a", "p", 2, Compliant, 0)];
    let o = overview(Some(&version(2, &["p"])), &all_good, &rows, CLOCK);
    assert_eq!((o.status, o.policies[0].status), (Compliant, Compliant));
    // No cluster at all: nothing enforces the policy yet.
    let o = overview(Some(&version(2, &["p"])), &[], &[], CLOCK);
    assert_eq!(o.policies[0].status, Pending);
    let o = overview(None, &all_good, &rows, CLOCK);
    assert_eq!(
        (o.status, o.policy_version, o.policies.len()),
        (Pending, None, 0)
    );
}

#[test]
fn csv_has_a_header_and_quotes_as_rfc_4180_says() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    let change = ComplianceChange {
        at: 7,
        cluster: "cl-1".into(),
        cluster_name: "eu-1".into(),
        policy: "odd,\"id\"".into(),
        policy_version: 3,
        status: NonCompliant,
        violations: 2,
    };
    assert_eq!(
        csv(&[change]),
        "at,cluster,cluster_name,policy,policy_version,status,violations\r\n\
         7,cl-1,eu-1,\"odd,\"\"id\"\"\",3,non_compliant,2\r\n"
    );
    assert_eq!(
        csv(&[]),
        "at,cluster,cluster_name,policy,policy_version,status,violations\r\n"
    );
}

#[test]
fn cluster_names_are_dns_labels() {
    for ok in ["a", "eu-1", "0x", &"a".repeat(63)] {
        assert!(is_dns_label(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "Eu", "a_b", "a.b", "é", &"a".repeat(64)] {
        assert!(!is_dns_label(bad), "{bad}");
    }
}

fn report(v: u64, statuses: &[(&str, ironroot_api::ComplianceStatus, u64)]) -> ComplianceReport {
    ComplianceReport {
        policy_version: v,
        generated_at: 1,
        webhook_serving: true,
        policies: statuses
            .iter()
            .map(|(p, s, n)| PolicyCompliance {
                policy: p.to_string(),
                status: *s,
                checked: 10,
                violations: *n,
                unknown: 0,
                samples: vec![],
            })
            .collect(),
    }
}

async fn scenario(store: Store) {
    let a = cluster("cl-a", None);
    assert!(store.insert_cluster(&a, "bootstrap").await.unwrap());
    let mut dup = cluster("cl-b", None);
    dup.name = a.name.clone();
    assert!(
        !store.insert_cluster(&dup, "bootstrap").await.unwrap(),
        "names are unique"
    );
    assert!(store
        .cluster_by_cert("cl-a", "serial-cl-a")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .cluster_by_cert("cl-a", "other")
        .await
        .unwrap()
        .is_none());
    renewal(&store).await;

    assert_eq!(store.current_policy_version("default").await.unwrap(), None);
    assert!(store
        .insert_policy_version("default", &version(1, &["p"]), "doc1")
        .await
        .unwrap());
    assert!(!store
        .insert_policy_version("default", &version(1, &["q"]), "doc1b")
        .await
        .unwrap());
    assert_eq!(
        store.current_policy_version("default").await.unwrap(),
        Some(1)
    );
    let (v, doc) = store
        .current_policy("default", true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v.version.version, doc.as_deref()), (1, Some("doc1")));
    assert_eq!(v.policies[0].id, "p");
    super::policy_store_tests::policy_orgs(&store).await;

    let caller = CallingCluster {
        id: a.id.clone(),
        name: a.name.clone(),
        serial: a.cert_serial.clone(),
    };
    let changed = store
        .record_compliance(&caller, &report(1, &[("p", NonCompliant, 2)]), 100)
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    // The same again: no history row.
    let changed = store
        .record_compliance(&caller, &report(1, &[("p", NonCompliant, 2)]), 110)
        .await
        .unwrap();
    assert!(changed.is_empty());
    let changed = store
        .record_compliance(
            &caller,
            &report(1, &[("p", NonCompliant, 3), ("q", Compliant, 0)]),
            120,
        )
        .await
        .unwrap();
    assert_eq!(changed.len(), 2);
    let all = HistoryFilter {
        until: u64::MAX,
        ..Default::default()
    };
    let h = store.compliance_history(&all, 100).await.unwrap();
    assert_eq!(
        h.iter().map(|c| c.violations).collect::<Vec<_>>(),
        [2, 3, 0]
    );
    let by_name = HistoryFilter {
        cluster: Some(a.name.clone()),
        policy: Some("p".into()),
        since: 101,
        until: u64::MAX,
        org: None,
    };
    let h = store.compliance_history(&by_name, 100).await.unwrap();
    assert_eq!((h.len(), h[0].at, h[0].cluster.as_str()), (1, 120, "cl-a"));
    assert_eq!(store.compliance_history(&all, 2).await.unwrap().len(), 2);
    // By organisation: cl-a has no owner row, so it is the platform's.
    let of = |org: &str| HistoryFilter {
        until: u64::MAX,
        org: Some(org.into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .compliance_history(&of("default"), 100)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(store
        .compliance_history(&of("blue"), 100)
        .await
        .unwrap()
        .is_empty());
    let rows = store.compliance_rows().await.unwrap();
    assert_eq!(rows.len(), 2);
    let c = &store.clusters().await.unwrap()[0];
    assert_eq!(
        (c.last_report_at, c.policy_version, c.webhook_serving),
        (Some(120), Some(1), Some(true))
    );

    // The outage flag: one caller wins each change.
    assert_eq!(store.overdue_clusters(121).await.unwrap().len(), 1);
    assert!(store.set_cluster_outage("cl-a", true).await.unwrap());
    assert!(!store.set_cluster_outage("cl-a", true).await.unwrap());
    assert!(store.overdue_clusters(121).await.unwrap().is_empty());
    assert!(store.set_cluster_outage("cl-a", false).await.unwrap());

    assert!(store.delete_cluster("cl-a", "bootstrap").await.unwrap());
    assert!(store
        .cluster_by_cert("cl-a", "serial-cl-a")
        .await
        .unwrap()
        .is_none());
    assert!(
        store.compliance_rows().await.unwrap().is_empty(),
        "statuses go with it"
    );
    assert_eq!(
        store.compliance_history(&all, 100).await.unwrap().len(),
        3,
        "history stays"
    );
}

/// A renewed certificate replaces the old one only once it is used; a renewal whose
/// certificate was lost is made again with the old one.
async fn renewal(store: &Store) {
    let serial = |s: &str| s.to_owned();
    let accepted =
        |s: String| async move { store.cluster_by_cert("cl-r", &s).await.unwrap().is_some() };
    assert!(store
        .insert_cluster(&cluster("cl-r", None), "bootstrap")
        .await
        .unwrap());
    let old = serial("serial-cl-r");
    assert!(store
        .renew_cluster_cert("cl-r", &old, "n1", 7)
        .await
        .unwrap());
    assert!(accepted(old.clone()).await, "n1 is not used yet");
    // n1 was lost: renewed again with the old one, which stays valid; n1 is gone.
    assert!(store
        .renew_cluster_cert("cl-r", &old, "n2", 8)
        .await
        .unwrap());
    assert!(!accepted(serial("n1")).await);
    assert!(accepted(serial("n2")).await, "the first use of n2 ...");
    assert!(!accepted(old.clone()).await, "... revokes the old one");
    assert!(
        !store
            .renew_cluster_cert("cl-r", &old, "n3", 9)
            .await
            .unwrap(),
        "a revoked certificate renews nothing"
    );
    let row = store.cluster_by_cert("cl-r", "n2").await.unwrap().unwrap();
    assert_eq!((row.cert_not_after, row.prev_cert_serial), (8, None));
    assert!(!store
        .renew_cluster_cert("cl-x", "n2", "n4", 9)
        .await
        .unwrap());
    assert!(store.delete_cluster("cl-r", "bootstrap").await.unwrap());
}

#[tokio::test]
async fn hub_store_on_sqlite() {
    let dir = TempDir::new("hub");
    let store = Store::open_sqlite(&dir.path().join("hub.db"))
        .await
        .unwrap();
    scenario(store).await;
}

#[tokio::test]
async fn hub_store_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open_postgres(&pg.url()).await.unwrap();
    scenario(store).await;
}
