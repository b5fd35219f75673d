//! A trust-loss alert says what the cluster did (issue 14, R11): a real host (swtpm) that
//! fails its first attestation raises its alert; the cluster its Node belongs to reports
//! the drain over `POST /v1/cluster/remediations` with its own certificate, and the alert
//! (and the webhook sink) show `drain`. The host's own certificate, and the
//! administrator's token, do not open that route.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "../src/bin/alert_delivery/receiver.rs"]
mod receiver;

use ironroot_alerts::{Change, Remediation};
use ironroot_api::{
    BindNode, ErrorKind, RemediationAction, RemediationReport, SinkSpec, WebhookSink,
};
use ironroot_client::{AlertQuery, Client, ClientError};
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use std::time::Duration;

const SECRET: &str = "whsec-0123456789abcdef";

fn kind(r: Result<impl std::fmt::Debug, ClientError>) -> Option<ErrorKind> {
    r.unwrap_err().api().map(|a| a.kind)
}

async fn cluster(p: &Platform, name: &str) -> Client {
    ironroot_e2e::register_cluster(p, name).await.unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clusters_drain_shows_on_the_trust_loss_alert_and_only_a_cluster_may_report_it() {
    if !peers_available() {
        return;
    }
    let mut rx = receiver::Receiver::start(SECRET.as_bytes()).await.unwrap();
    let dir = TempDir::new("remediations").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let spec = SinkSpec::Webhook(WebhookSink {
        url: rx.url(),
        secret: Some(SECRET.into()),
        ca_pem: Some(rx.ca_pem.clone()),
        min_severity: None,
    });
    p.admin.put_sink("siem", &spec).await.unwrap();

    // No flavor yet: the first attestation fails and raises the trust-loss alert.
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    let bind = BindNode {
        node: "worker-1".into(),
    };
    p.admin.bind_node(&host_id, &bind).await.unwrap();
    assert!(!s.attest_once().await.unwrap().trusted);
    let list = p.admin.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(list.alerts.len(), 1, "{list:?}");
    let alert = list.alerts[0].clone();
    assert_eq!(alert.remediation, Remediation::None);

    let report = |action| RemediationReport {
        host_id: host_id.clone(),
        node: "worker-1".into(),
        action,
        at: 1,
        detail: "drain started: evicting its pods through the Eviction API".into(),
    };
    let east = cluster(&p, "east").await;
    let o = east
        .report_remediation(&report(RemediationAction::Drain))
        .await
        .unwrap();
    assert!(o.recorded, "{o:?}");
    let a = p.admin.alert(&alert.id).await.unwrap();
    assert_eq!(
        (a.remediation, a.state.as_str()),
        (Remediation::Drain, "open")
    );
    assert!(
        a.details.contains("drain of node worker-1 by cluster east"),
        "{}",
        a.details
    );

    // The sink hears the opening, then the drain.
    let mut heard = Vec::new();
    while heard.len() < 2 {
        let r = tokio::time::timeout(Duration::from_secs(30), rx.rx.recv())
            .await
            .expect("the sink hears of it in time")
            .unwrap();
        if r.first {
            heard.push((r.notice.change, r.notice.alert.remediation));
        }
    }
    assert_eq!(
        heard,
        [
            (Change::Opened, Remediation::None),
            (Change::Repeated, Remediation::Drain)
        ]
    );

    // A bound Node the report does not name: refused.
    let mut elsewhere = report(RemediationAction::Taint);
    elsewhere.node = "worker-2".into();
    assert_eq!(
        kind(east.report_remediation(&elsewhere).await),
        Some(ErrorKind::BadRequest)
    );

    // The host's own certificate and the administrator's token are no cluster.
    let state = node.layout.root.join("agent");
    let id: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("identity.json")).unwrap()).unwrap();
    let cert = id["client_certificate_pem"].as_str().unwrap();
    let key = std::fs::read_to_string(state.join("client.key")).unwrap();
    let host = Client::agent(&p.url(), p.service.ca_pem.as_bytes(), Some((cert, &key))).unwrap();
    let r = report(RemediationAction::Taint);
    assert_eq!(
        kind(host.report_remediation(&r).await),
        Some(ErrorKind::Unauthenticated)
    );
    assert_eq!(
        kind(p.admin.report_remediation(&r).await),
        Some(ErrorKind::Unauthenticated)
    );
    let a = p.admin.alert(&alert.id).await.unwrap();
    assert_eq!(a.remediation, Remediation::Drain, "nothing downgraded it");
}
