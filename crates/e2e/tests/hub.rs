//! The policy hub end to end (docs/hub.md), against a real service on SQLite and on a
//! throwaway PostgreSQL: clusters registered with their own certificates (which open only
//! the cluster routes and the controller's read-only ones, and die with the cluster),
//! versioned policies with a stale change refused, the signed bundle verified with the
//! JWKS and bound to its cluster, compliance aggregated NonCompliant > Pending > Unknown >
//! Compliant, history exported as JSON and CSV, and violations and outages as alerts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_api::{
    BundlePayload, ComplianceReport, ComplianceStatus, ComplianceStatus::*, ErrorKind, ObjectRef,
    PolicyChange, PolicyCompliance, ViolationAction, ViolationBatch, ViolationEvent,
    ViolationSample,
};
use ironroot_client::{AlertQuery, Client, ClientError, HistoryQuery};
use ironroot_crypto::JwkSet;
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_server::EkCertPolicy;
use ironroot_testkit::databases::PgCluster;
use std::time::Duration;

const STALE_SECS: u64 = 4;

fn policies(version: u64) -> String {
    format!(
        "version: {version}\npolicies:\n\
         - id: no-privileged\n  description: No privileged containers.\n  severity: high\n  \
           mode: enforce\n  remediation: deny\n  rule: {{ no-privileged: {{}} }}\n\
         - id: run-as-non-root\n  description: Containers run as non-root.\n  severity: low\n  \
           mode: audit\n  remediation: alert\n  rule: {{ run-as-non-root: {{}} }}\n"
    )
}

fn change(version: u64) -> PolicyChange {
    PolicyChange {
        document: policies(version),
        by: "alice".into(),
        comment: Some(format!("v{version}")),
    }
}

struct Cluster {
    id: String,
    client: Client,
}

impl Cluster {
    async fn reports(&self, r: ComplianceReport) {
        self.client.report_compliance(&r).await.unwrap();
    }
}

async fn register(p: &Platform, name: &str) -> Result<Cluster, ClientError> {
    let (id, client) = ironroot_e2e::register_cluster(p, name).await?;
    Ok(Cluster { id, client })
}

async fn get(c: &Client, path: &str) -> Result<serde_json::Value, ClientError> {
    c.get(path).await
}

fn kind(e: &ClientError) -> Option<ErrorKind> {
    e.api().map(|a| a.kind)
}

fn obj(name: &str) -> ObjectRef {
    ObjectRef {
        namespace: "apps".into(),
        kind: "Pod".into(),
        name: name.into(),
    }
}

fn report(version: u64, webhook: bool, s: &[(&str, ComplianceStatus, u64)]) -> ComplianceReport {
    ComplianceReport {
        policy_version: version,
        generated_at: 1,
        webhook_serving: webhook,
        policies: s
            .iter()
            .map(|(p, st, n)| PolicyCompliance {
                policy: p.to_string(),
                status: *st,
                checked: 5,
                violations: *n,
                unknown: 0,
                samples: (0..*n)
                    .map(|i| ViolationSample {
                        object: obj(&format!("bad-{i}")),
                        message: "privileged: true".into(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

async fn statuses(p: &Platform) -> (ComplianceStatus, Vec<(String, ComplianceStatus)>) {
    let o = p.admin.compliance().await.unwrap();
    (
        o.status,
        o.policies
            .into_iter()
            .map(|p| (p.policy, p.status))
            .collect(),
    )
}

const ALL_COMPLIANT: [(&str, ComplianceStatus, u64); 2] = [
    ("no-privileged", Compliant, 0),
    ("run-as-non-root", Compliant, 0),
];

async fn hub_scenario(database: Option<String>, tag: &str) {
    let dir = TempDir::new(tag).unwrap();
    let p = Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = EkCertPolicy::IfPresent;
        c.cluster_stale_secs = STALE_SECS;
        c.database = database;
    })
    .await
    .unwrap();

    let (eu, us) = registration_and_gates(&p).await;
    versions_and_bundles(&p, &eu, &us).await;
    aggregation_under_version_one(&p, &eu, &us).await;
    staleness_under_version_two(&p, &eu, &us).await;
    violations(&p, &eu).await;
    history(&p).await;
    revocation_and_outage(&p, &eu, &us).await;
}

/// Registration: unique DNS-1123 names; what a cluster certificate opens.
async fn registration_and_gates(p: &Platform) -> (Cluster, Cluster) {
    // Registration: unique DNS-1123 names.
    let eu = register(p, "eu-1").await.unwrap();
    let us = register(p, "us-1").await.unwrap();
    let dup = register(p, "eu-1").await.err().unwrap();
    assert_eq!(kind(&dup), Some(ErrorKind::Conflict), "{dup}");
    let bad = register(p, "EU_1").await.err().unwrap();
    assert_eq!(kind(&bad), Some(ErrorKind::BadRequest), "{bad}");
    assert_eq!(p.admin.clusters().await.unwrap().len(), 2);

    // A cluster's certificate opens the cluster routes and the controller's reads only
    // (a 404 there is past the gate): the administration API knows who it is (a cluster)
    // and forbids the rest; an agent's route does not take it at all.
    let refused = [
        ("/v1/hosts", ErrorKind::Forbidden),
        ("/v1/agent/asset-tag", ErrorKind::Unauthenticated),
    ];
    let passed = [
        ("/v1/keys/k-none", ErrorKind::NotFound),
        ("/v1/nodes/h-none", ErrorKind::NotFound),
    ];
    for (path, want) in refused.into_iter().chain(passed) {
        let e = get(&eu.client, path).await.err().unwrap();
        assert_eq!(kind(&e), Some(want), "{path}: {e}");
    }
    get(&eu.client, "/v1/nodes").await.unwrap();
    eu.client.event_stream("/v1/events", None).await.unwrap();

    (eu, us)
}

async fn versions_and_bundles(p: &Platform, eu: &Cluster, us: &Cluster) {
    // No policy set yet.
    let e = eu.client.policy_bundle(None).await.err().unwrap();
    assert_eq!(kind(&e), Some(ErrorKind::NotFound), "{e}");

    // Versions: each the current plus one; a bad document is refused with the loader's word.
    let v1 = p.admin.put_policies(&change(1)).await.unwrap();
    assert_eq!(v1.policies, ["no-privileged", "run-as-non-root"]);
    for stale in [1, 3] {
        let e = p.admin.put_policies(&change(stale)).await.err().unwrap();
        assert_eq!(kind(&e), Some(ErrorKind::Conflict), "{e}");
        assert!(e.to_string().contains("version 1"), "{e}");
    }
    let mut broken = change(2);
    broken.document = broken.document.replace("severity: low", "severity: dire");
    let e = p.admin.put_policies(&broken).await.err().unwrap();
    assert_eq!(kind(&e), Some(ErrorKind::BadRequest), "{e}");
    assert!(e.to_string().contains("run-as-non-root"), "{e}");
    assert_eq!(p.admin.policies().await.unwrap().version.version, 1);

    // The bundle: signed with the JWKS key, bound to the caller; 304 when unchanged.
    let jwks: JwkSet = p.admin.get("/.well-known/jwks.json").await.unwrap();
    let b = eu.client.policy_bundle(None).await.unwrap().unwrap();
    let payload: BundlePayload =
        serde_json::from_slice(&jwks.verify_compact(&b.jws).unwrap()).unwrap();
    assert_eq!(
        (payload.version, payload.cluster.as_str()),
        (1, eu.id.as_str())
    );
    assert_eq!(payload.cluster_name, "eu-1");
    assert_eq!(payload.document, policies(1));
    assert_eq!(payload.sha256, v1.sha256);
    assert!(
        eu.client.policy_bundle(Some(1)).await.unwrap().is_none(),
        "304"
    );
    let theirs = us.client.policy_bundle(Some(0)).await.unwrap().unwrap();
    let theirs: BundlePayload =
        serde_json::from_slice(&jwks.verify_compact(&theirs.jws).unwrap()).unwrap();
    assert_eq!(theirs.cluster, us.id);
}

async fn aggregation_under_version_one(p: &Platform, eu: &Cluster, us: &Cluster) {
    // eu non-compliant on no-privileged, us not reported yet.
    eu.reports(report(
        1,
        true,
        &[
            ("no-privileged", NonCompliant, 1),
            ("run-as-non-root", Compliant, 0),
        ],
    ))
    .await;
    let all = [
        ("no-privileged", NonCompliant),
        ("run-as-non-root", Pending),
    ];
    assert_eq!(
        statuses(p).await,
        (NonCompliant, all.map(|(a, b)| (a.to_string(), b)).to_vec())
    );
    let sample = p.admin.alerts(&AlertQuery::default()).await.unwrap();
    let sample = sample
        .alerts
        .iter()
        .find(|a| a.subject == "cluster/eu-1/apps/Pod/bad-0")
        .expect("the sample's alert")
        .clone();
    assert_eq!(sample.severity.name(), "high");

    us.reports(report(
        1,
        true,
        &[
            ("no-privileged", Compliant, 0),
            ("run-as-non-root", Compliant, 0),
        ],
    ))
    .await;
    eu.reports(report(
        1,
        true,
        &[
            ("no-privileged", Compliant, 0),
            ("run-as-non-root", Compliant, 0),
        ],
    ))
    .await;
    assert_eq!(statuses(p).await.0, Compliant);
    assert_eq!(
        p.admin.alert(&sample.id).await.unwrap().state,
        "resolved",
        "compliant again"
    );
}

async fn staleness_under_version_two(p: &Platform, eu: &Cluster, us: &Cluster) {
    // Version 2: everyone pending until they report under it.
    p.admin.put_policies(&change(2)).await.unwrap();
    assert_eq!(statuses(p).await.0, Pending);
    let both = ALL_COMPLIANT;
    eu.reports(report(2, true, &both)).await;
    us.reports(report(2, true, &both)).await;
    assert_eq!(statuses(p).await.0, Compliant);

    // us goes quiet: unknown once overdue, and its outage is an alert; eu keeps reporting.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        eu.reports(report(2, true, &both)).await;
    }
    assert_eq!(statuses(p).await.0, Unknown);
    // A cluster registered but silent is pending, which outranks unknown.
    let ap = register(p, "ap-1").await.unwrap();
    assert_eq!(statuses(p).await.0, Pending);
    p.admin.remove_cluster(&ap.id).await.unwrap();
    assert_eq!(statuses(p).await.0, Unknown);
    let outage = p.admin.alerts(&AlertQuery::default()).await.unwrap();
    let outage = outage
        .alerts
        .iter()
        .find(|a| a.subject == "cluster/us-1" && a.kind == "cluster-outage")
        .expect("the outage alert")
        .clone();
    assert_eq!(outage.state, "open");
    us.reports(report(2, true, &both)).await;
    assert_eq!(p.admin.alert(&outage.id).await.unwrap().state, "resolved");
    assert_eq!(statuses(p).await.0, Compliant);
}

async fn violations(p: &Platform, eu: &Cluster) {
    // Violations become alerts with the remediation the cluster took.
    let batch = ViolationBatch {
        violations: vec![
            ViolationEvent {
                policy: "no-privileged".into(),
                object: obj("denied-pod"),
                message: "privileged: true".into(),
                action: ViolationAction::Denied,
                at: 1,
            },
            ViolationEvent {
                policy: "run-as-non-root".into(),
                object: obj("root-pod"),
                message: "runs as root".into(),
                action: ViolationAction::Admitted,
                at: 1,
            },
        ],
    };
    eu.client.report_violations(&batch).await.unwrap();
    let alerts = p.admin.alerts(&AlertQuery::default()).await.unwrap().alerts;
    let denied = alerts
        .iter()
        .find(|a| a.subject == "cluster/eu-1/apps/Pod/denied-pod")
        .unwrap();
    assert_eq!(
        (denied.remediation.as_str(), denied.source.as_str()),
        ("deny", "policy/no-privileged")
    );
    assert_eq!(denied.severity.name(), "high");
    let admitted = alerts
        .iter()
        .find(|a| a.subject == "cluster/eu-1/apps/Pod/root-pod")
        .unwrap();
    assert_eq!(
        (admitted.remediation.as_str(), admitted.severity.name()),
        ("none", "low")
    );
}

async fn history(p: &Platform) {
    // History: every change, filtered, as JSON and as CSV.
    let q = HistoryQuery {
        cluster: Some("eu-1".into()),
        policy: Some("no-privileged".into()),
        ..Default::default()
    };
    let h = p.admin.compliance_history(&q).await.unwrap().changes;
    let seen: Vec<_> = h.iter().map(|c| (c.policy_version, c.status)).collect();
    assert_eq!(
        seen,
        [(1, NonCompliant), (1, Compliant)],
        "a version change alone is no change"
    );
    let csv = p.admin.compliance_history_csv(&q).await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "at,cluster,cluster_name,policy,policy_version,status,violations"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].ends_with(",eu-1,no-privileged,1,non_compliant,1"),
        "{csv}"
    );
    let later = HistoryQuery {
        since: Some(h[1].at + 1),
        ..q.clone()
    };
    assert!(p
        .admin
        .compliance_history(&later)
        .await
        .unwrap()
        .changes
        .is_empty());
    let everyone = p
        .admin
        .compliance_history(&HistoryQuery::default())
        .await
        .unwrap();
    assert!(everyone.changes.iter().any(|c| c.cluster_name == "us-1"));
}

async fn revocation_and_outage(p: &Platform, eu: &Cluster, us: &Cluster) {
    // Removing a cluster revokes its certificate at once.
    p.admin.remove_cluster(&us.id).await.unwrap();
    let e = us.client.policy_bundle(None).await.err().unwrap();
    assert_eq!(kind(&e), Some(ErrorKind::Unauthenticated), "{e}");
    let e = get(&us.client, "/v1/nodes").await.err().unwrap();
    assert_eq!(kind(&e), Some(ErrorKind::Unauthenticated), "{e}");
    assert!(eu.client.policy_bundle(None).await.unwrap().is_some());
    // A webhook that stops serving is an outage too.
    eu.reports(report(2, false, &ALL_COMPLIANT)).await;
    let alerts = p.admin.alerts(&AlertQuery::default()).await.unwrap().alerts;
    let down = alerts
        .iter()
        .find(|a| a.subject == "cluster/eu-1" && a.kind == "cluster-outage")
        .unwrap();
    assert_eq!(down.state, "open");
    // Removing the cluster resolves its outage: no one is left to fix it.
    p.admin.remove_cluster(&eu.id).await.unwrap();
    assert_eq!(p.admin.alert(&down.id).await.unwrap().state, "resolved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_on_sqlite() {
    hub_scenario(None, "hub-sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    hub_scenario(Some(pg.url()), "hub-pg").await;
}

/// A host's certificate (a real enrollment with swtpm) never passes the cluster gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_certificate_never_passes_the_cluster_gate() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("hub-host").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    let state = node.layout.root.join("agent");
    let id: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("identity.json")).unwrap()).unwrap();
    let cert = id["client_certificate_pem"].as_str().unwrap();
    let key = std::fs::read_to_string(state.join("client.key")).unwrap();
    let host = Client::agent(&p.url(), p.service.ca_pem.as_bytes(), Some((cert, &key))).unwrap();
    if let Err(e) = get(&host, "/v1/agent/asset-tag").await {
        assert_ne!(
            kind(&e),
            Some(ErrorKind::Unauthenticated),
            "a host passes the agent gate: {e}"
        );
    }
    for path in ["/v1/cluster/bundle", "/v1/nodes", "/v1/events"] {
        let e = get(&host, path).await.err().unwrap();
        assert_eq!(kind(&e), Some(ErrorKind::Unauthenticated), "{path}: {e}");
    }
    let e = host
        .report_compliance(&report(1, true, &[]))
        .await
        .err()
        .unwrap();
    assert_eq!(kind(&e), Some(ErrorKind::Unauthenticated), "{e}");
}
