//! `POST /v1/cluster/remediations` over HTTPS on a real service (SQLite), through the one
//! client: a cluster's drain shows on the host's trust-loss alert and is never
//! downgraded, a report for a host bound to another Node (400), bound to none or of
//! another organisation (404) is refused, the administrator's token does not open the
//! cluster route (401), and a report for a host without an unresolved alert records
//! nothing.

use crate::store::{HostRow, Store};
use crate::{EkCertPolicy, ServerConfig, Service};
use ironroot_alerts::{AlertKey, Occurrence, Remediation, Severity};
use ironroot_api::{
    BindNode, ErrorKind, RegisterCluster, RemediationAction, RemediationReport, TrustState,
};
use ironroot_client::{Client, ClientError, PlainHttp};
use ironroot_testkit::databases::TempDir;

fn host(id: &str) -> HostRow {
    HostRow {
        host_id: id.into(),
        hostname: format!("{id}-name"),
        hardware_uuid: format!("uuid-{id}"),
        ek_public: format!("ek-{id}").into_bytes(),
        ek_certificate: None,
        ak_public: vec![1],
        ak_name: vec![2],
        ak_qualified_name: vec![3],
        enrolled_at: 1,
        activated_at: Some(1),
        flavor_group: "automatic".into(),
        reset_count: None,
        restart_count: None,
        clock: None,
        trust_state: TrustState::INITIAL,
        tag_digest: None,
        tag_json: None,
        cert_serial: None,
        k8s_node: None,
        kubelet_pod_pids_limit: None,
    }
}

fn report(host: &str, node: &str, action: RemediationAction) -> RemediationReport {
    RemediationReport {
        host_id: host.into(),
        node: node.into(),
        action,
        at: 7,
        detail: format!("{} by the test", action.as_str()),
    }
}

fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorKind) {
    let e = r.unwrap_err();
    let kind = e.api().unwrap_or_else(|| panic!("not a refusal: {e}")).kind;
    (e.status().unwrap().0, kind)
}

async fn cluster_client(admin: &Client, url: &str, name: &str) -> Client {
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let reg = admin
        .register_cluster(&RegisterCluster {
            name: name.into(),
            csr_pem: csr,
        })
        .await
        .unwrap();
    Client::agent(
        url,
        reg.ca_pem.as_bytes(),
        Some((&reg.cert_pem, &key.serialize_pem())),
    )
    .unwrap()
}

#[tokio::test]
async fn a_clusters_remediation_shows_on_the_hosts_trust_loss_alert() {
    ironroot_tls::install_process_provider();
    let dir = TempDir::new("hub-remediations");
    let mut config = ServerConfig::new(dir.path().to_path_buf());
    config.listen = ([127, 0, 0, 1], 0).into();
    config.ek_cert_policy = EkCertPolicy::IfPresent;
    let service = Service::start(config).await.unwrap();
    let store = Store::open_sqlite(&dir.path().join("ironroot.db"))
        .await
        .unwrap();
    for id in ["h1", "h2", "h3"] {
        store.put_host(&host(id)).await.unwrap();
    }
    let token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let url = format!("https://{}", service.addr);
    let admin = Client::admin(
        &url,
        service.ca_pem.as_bytes(),
        token.trim(),
        PlainHttp::Refused,
    )
    .unwrap();
    for (h, n) in [("h1", "worker-1"), ("h2", "worker-2")] {
        admin
            .bind_node(h, &BindNode { node: n.into() })
            .await
            .unwrap();
    }
    let lost = Occurrence {
        severity: Severity::High,
        title: "host h1-name is untrusted".into(),
        details: "pcr 7 changed".into(),
        remediation: Remediation::None,
        at: 5,
    };
    let alert = store
        .raise_alert(&AlertKey::trust_loss("h1").unwrap(), &lost, "default")
        .await
        .unwrap()
        .id;
    let east = cluster_client(&admin, &url, "east").await;

    let o = east
        .report_remediation(&report("h1", "worker-1", RemediationAction::Drain))
        .await
        .unwrap();
    assert!(o.recorded);
    assert_eq!(o.alert_id.as_deref(), Some(alert.as_str()));
    let a = admin.alert(&alert).await.unwrap();
    assert_eq!(a.remediation, Remediation::Drain);
    assert_eq!(a.state, "open");
    assert!(
        a.details
            .starts_with("pcr 7 changed\n\nremediation: drain of node worker-1 by cluster east"),
        "{}",
        a.details
    );

    // A later taint or held drain never downgrades the drain.
    for action in [RemediationAction::Taint, RemediationAction::HeldByBrake] {
        let o = east
            .report_remediation(&report("h1", "worker-1", action))
            .await
            .unwrap();
        assert!(!o.recorded, "{action:?}");
        assert_eq!(o.remediation.as_deref(), Some("drain"));
    }
    assert_eq!(
        admin.alert(&alert).await.unwrap().remediation,
        Remediation::Drain
    );

    // h2 is bound to worker-2: a cluster cannot mark it handled through worker-1 (400);
    // h3 is bound to no Node and "nobody" does not exist (404).
    let r = report("h2", "worker-1", RemediationAction::Taint);
    let r = east.report_remediation(&r).await;
    assert_eq!(refused(r), (400, ErrorKind::BadRequest));
    for h in ["h3", "nobody"] {
        let r = report(h, "worker-1", RemediationAction::Taint);
        let r = east.report_remediation(&r).await;
        assert_eq!(refused(r), (404, ErrorKind::NotFound), "{h}");
    }
    // Another organisation's host does not exist for east, Node and all (404).
    admin.create_organisation("blue").await.unwrap();
    admin
        .set_owner(ironroot_client::OwnedKind::Host, "h2", "blue")
        .await
        .unwrap();
    let r = report("h2", "worker-2", RemediationAction::Taint);
    let r = east.report_remediation(&r).await;
    assert_eq!(refused(r), (404, ErrorKind::NotFound));
    admin
        .set_owner(ironroot_client::OwnedKind::Host, "h2", "default")
        .await
        .unwrap();
    // Bound, but no trust-loss alert: answered, nothing recorded.
    let o = east
        .report_remediation(&report("h2", "worker-2", RemediationAction::Taint))
        .await
        .unwrap();
    assert!(!o.recorded && o.alert_id.is_none(), "{o:?}");

    // The administrator's token is no cluster certificate.
    let r = report("h1", "worker-1", RemediationAction::Drain);
    let r = admin.report_remediation(&r).await;
    assert_eq!(refused(r), (401, ErrorKind::Unauthenticated));

    // A resolved alert is never reopened by a late report.
    admin.resolve_alert(&alert, "alice").await.unwrap();
    let o = east
        .report_remediation(&report("h1", "worker-1", RemediationAction::Drain))
        .await
        .unwrap();
    assert!(!o.recorded && o.alert_id.is_none(), "{o:?}");
    assert_eq!(admin.alert(&alert).await.unwrap().state, "resolved");
}
