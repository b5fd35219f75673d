//! Alerts end to end: a node's trust loss raises an alert, its return resolves it, and a
//! webhook sink hears of every change exactly once per delivery id, even when the sink
//! is down while the alerts are raised and the service restarts before it comes back.
//! Syslog sinks are tested against a real rsyslog in `alerts_syslog.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "../src/bin/alert_delivery/receiver.rs"]
mod receiver;

use ironroot_api::{
    AlertChange, ErrorKind, FlavorList, FlavorsFromHostRequest, SinkSpec, WebhookSink,
};
use ironroot_client::{AlertQuery, ClientError};
use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_server::Service;
use std::time::Duration;

const SECRET: &str = "whsec-0123456789abcdef";

async fn wait_for_state(p: &Platform, id: &str, state: &str) {
    for _ in 0..100 {
        if p.admin.alert(id).await.unwrap().state == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("alert {id} never became {state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_loss_alerts_survive_a_sink_outage_and_a_restart_and_arrive_once_each() {
    if !peers_available() {
        return;
    }
    let mut rx = receiver::Receiver::start(SECRET.as_bytes()).await.unwrap();
    rx.up(false).await.unwrap();
    let dir = TempDir::new("alerts").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.trust_validity_secs = 2;
        c.attestation_interval_secs = 1;
    })
    .await
    .unwrap();
    let spec = SinkSpec::Webhook(WebhookSink {
        url: rx.url(),
        secret: Some(SECRET.into()),
        ca_pem: Some(rx.ca_pem.clone()),
        min_severity: None,
    });
    let info = p.admin.put_sink("siem", &spec).await.unwrap();
    assert!(info.secret_set);
    let shown = serde_json::to_string(&p.admin.sinks().await.unwrap()).unwrap();
    assert!(
        !shown.contains(SECRET),
        "the secret is never echoed: {shown}"
    );

    // untrusted (opened), trusted (resolved), expired (reopened), trusted (resolved).
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    assert!(!s.attest_once().await.unwrap().trusted);
    let list = p.admin.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(list.alerts.len(), 1, "{list:?}");
    let alert = list.alerts[0].clone();
    assert_eq!(
        (
            alert.source.as_str(),
            alert.subject.clone(),
            alert.kind.as_str()
        ),
        ("trust", format!("host/{host_id}"), "trust-lost")
    );
    assert_eq!(alert.state, "open");
    assert!(alert.details.contains("PLATFORM"), "{}", alert.details);
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "g".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    wait_for_state(&p, &alert.id, "resolved").await;
    wait_for_state(&p, &alert.id, "open").await; // the deadline passed: expired
    assert!(s.attest_once().await.unwrap().trusted);
    wait_for_state(&p, &alert.id, "resolved").await;
    let a = p.admin.alert(&alert.id).await.unwrap();
    assert!(a.resolved_automatically && a.resolved_by.is_none());
    assert_eq!((a.count, a.first_seen <= a.last_seen), (2, true));
    let sinks = p.admin.sinks().await.unwrap();
    assert_eq!(sinks[0].pending, 4, "all four notices wait for the sink");
    assert!(sinks[0].last_error.is_some());

    // The service restarts on the same port; then the sink comes back.
    let Platform {
        service,
        mut config,
        admin,
        dir,
    } = p;
    config.listen = service.addr;
    drop(service);
    tokio::time::sleep(Duration::from_millis(300)).await; // its tasks end at their next await
    let service = Service::start(config.clone()).await.unwrap();
    let p = Platform {
        service,
        config,
        admin,
        dir,
    };
    rx.up(true).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let r = tokio::time::timeout(Duration::from_secs(30), rx.rx.recv())
            .await
            .expect("every notice arrives")
            .unwrap();
        if r.first {
            got.push(r.notice);
        }
    }
    let changes: Vec<AlertChange> = got.iter().map(|n| n.change).collect();
    assert_eq!(
        changes,
        [
            AlertChange::Opened,
            AlertChange::Resolved,
            AlertChange::Reopened,
            AlertChange::Resolved
        ],
        "in order"
    );
    assert!(got.iter().all(|n| n.alert.id == alert.id));
    // Nothing was sent twice (receivers would drop a repeat, but there was no cause for one).
    tokio::time::sleep(Duration::from_secs(1)).await;
    while let Ok(r) = rx.rx.try_recv() {
        assert!(r.first, "sent twice: {:?}", r.notice);
    }
    assert_eq!(p.admin.sinks().await.unwrap()[0].pending, 0);

    // An administrator acknowledges and resolves; illegal steps are 409s. Who did it is
    // the authenticated caller, with the name it stated after it.
    tokio::time::sleep(Duration::from_secs(3)).await; // expires again: reopened
    wait_for_state(&p, &alert.id, "open").await;
    let acked = p.admin.ack_alert(&alert.id, "alice").await.unwrap();
    assert_eq!(
        (acked.state.as_str(), acked.acknowledged_by.as_deref()),
        ("acknowledged", Some("bootstrap (alice)"))
    );
    let again = p.admin.ack_alert(&alert.id, "bob").await.unwrap_err();
    assert!(
        matches!(&again, ClientError::Api { error, .. } if error.kind == ErrorKind::Conflict),
        "{again:?}"
    );
    let done = p.admin.resolve_alert(&alert.id, "alice").await.unwrap();
    assert_eq!(done.resolved_by.as_deref(), Some("bootstrap (alice)"));
    let open = AlertQuery {
        state: Some("open".into()),
        ..Default::default()
    };
    assert!(p.admin.alerts(&open).await.unwrap().alerts.is_empty());
    let missing = p.admin.ack_alert("al-nope", "alice").await.unwrap_err();
    assert!(
        matches!(&missing, ClientError::Api { error, .. } if error.kind == ErrorKind::NotFound),
        "{missing:?}"
    );
}

/// RFC 5424 and CEF over TLS to a real rsyslog, which parses them: its template writes
/// the fields it parsed, so a record it read as anything but RFC 5424 would not match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_rsyslog_parses_the_alerts_as_rfc5424_and_cef() {
    use ironroot_api::{SyslogFormat, SyslogSink};
    use ironroot_peers::rsyslog::Rsyslog;
    if !peers_available() {
        return;
    }
    if !Rsyslog::available() {
        ironroot_testkit::skip_missing_peer(
            "rsyslog is not installed (apt-get install rsyslog rsyslog-gnutls)",
        );
        return;
    }
    let dir = TempDir::new("alerts-syslog").unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.key_pair.serialize_pem());
    let syslog = Rsyslog::start(&dir.0.join("rsyslog"), &cert_pem, &key_pem)
        .await
        .unwrap();
    let node = Node::boot(&dir.0, "node-2").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.tls_names = vec!["hub.example".into(), "127.0.0.1".into()];
    })
    .await
    .unwrap();
    for (name, format) in [("rfc", SyslogFormat::Rfc5424), ("cef", SyslogFormat::Cef)] {
        let spec = SinkSpec::Syslog(SyslogSink {
            address: format!("127.0.0.1:{}", syslog.port),
            server_name: None,
            ca_pem: cert_pem.clone(),
            format,
            facility: None,
            hostname: None,
            min_severity: None,
        });
        p.admin.put_sink(name, &spec).await.unwrap();
    }
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    assert!(!s.attest_once().await.unwrap().trusted);
    let alert = p.admin.alerts(&AlertQuery::default()).await.unwrap().alerts[0].clone();
    let records = syslog.records(2, Duration::from_secs(20)).await.unwrap();
    let rfc = records
        .iter()
        .find(|r| r.contains("|alert-opened|"))
        .unwrap();
    let f: Vec<&str> = rfc.splitn(7, '|').collect();
    // PRI 35: facility 4 (security), severity 3 (error) for a high alert.
    assert_eq!(f[0], "35", "{rfc}");
    assert_eq!(
        (f[2], f[3], f[4]),
        ("hub.example", "ironroot", "alert-opened"),
        "{rfc}"
    );
    assert!(
        f[5].starts_with(&format!(
            "[ironroot@32473 id=\"{}\" delivery=\"dl-",
            alert.id
        )),
        "{rfc}"
    );
    assert!(
        f[5].contains(&format!("subject=\"host/{host_id}\"")),
        "{rfc}"
    );
    assert!(f[6].contains("host node-2 is untrusted"), "{rfc}");
    let cef = records.iter().find(|r| r.contains("|cef|")).unwrap();
    let f: Vec<&str> = cef.splitn(7, '|').collect();
    assert_eq!((f[0], f[4], f[5]), ("35", "cef", "-"), "{cef}");
    assert!(
        f[6].contains("CEF:0|ironroot|ironroot|")
            && f[6].contains("|trust:trust-lost|host node-2 is untrusted|8|"),
        "{cef}"
    );
    assert!(f[6].contains(&format!("externalId={}", alert.id)), "{cef}");
}
