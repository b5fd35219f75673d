//! The Node routes over HTTPS on a real service (SQLite), through the one client: the
//! administrator binds and unbinds, the controller's reads, every refusal with its
//! status, and the events a follower of `GET /v1/events` receives for each change.

use crate::store::{HostRow, Store};
use crate::{EkCertPolicy, ServerConfig, Service};
use ironroot_api::{BindNode, ErrorKind, TagRequest, TrustEvent, TrustState};
use ironroot_client::{Client, ClientError, EventStream, PlainHttp};
use ironroot_testkit::databases::TempDir;
use std::collections::BTreeMap;
use std::time::Duration;

/// A host as enrollment leaves it (shared with the identity tests).
pub(crate) fn host(id: &str, name: &str) -> HostRow {
    HostRow {
        host_id: id.into(),
        hostname: name.into(),
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

struct Running {
    _dir: TempDir,
    _service: Service,
    admin: Client,
    url: String,
    ca: String,
}

/// A service on loopback with hosts `n1` (`node-a`), `n2` (`node-b`), `n3` (`node-c`)
/// written into its database as enrollment would leave them.
async fn start() -> Running {
    let dir = TempDir::new("nodes-routes");
    let mut config = ServerConfig::new(dir.path().to_path_buf());
    config.listen = ([127, 0, 0, 1], 0).into();
    config.ek_cert_policy = EkCertPolicy::IfPresent;
    let service = Service::start(config).await.unwrap();
    let store = Store::open_sqlite(&dir.path().join("ironroot.db"))
        .await
        .unwrap();
    for (id, name) in [("n1", "node-a"), ("n2", "node-b"), ("n3", "node-c")] {
        store.put_host(&host(id, name)).await.unwrap();
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
    Running {
        ca: service.ca_pem.clone(),
        _dir: dir,
        _service: service,
        admin,
        url,
    }
}

fn bind(node: &str) -> BindNode {
    BindNode { node: node.into() }
}

fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorKind, String) {
    let e = r.unwrap_err();
    let api = e.api().unwrap_or_else(|| panic!("not a refusal: {e}"));
    (e.status().unwrap().0, api.kind, api.message.clone())
}

/// The next trust event on `events`, within a few seconds.
async fn next_trust(events: &mut EventStream) -> TrustEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), events.next_event())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream is open");
        if e.event.as_deref() == Some("trust") {
            assert!(e.id.is_some(), "a trust event has its log position");
            return serde_json::from_str(&e.data).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_binds_hosts_to_nodes_and_followers_hear_of_it() {
    let r = start().await;
    let mut events = r.admin.event_stream("/v1/events", None).await.unwrap();

    // By hostname, as `host delete` takes it; the answer is what will be published.
    let n = r
        .admin
        .bind_node("node-a", &bind("worker-1"))
        .await
        .unwrap();
    assert_eq!(
        (n.host_id.as_str(), n.node.as_str(), n.trust),
        ("n1", "worker-1", TrustState::Unknown)
    );
    assert!(n.asset_tags.is_empty() && n.report_jws.is_none());
    let e = next_trust(&mut events).await;
    assert_eq!(
        (e.host_id.as_str(), e.previous, e.trust),
        ("n1", TrustState::Unknown, TrustState::Unknown)
    );
    assert_eq!(e.reasons, ["bound to Kubernetes node worker-1"]);
    assert_eq!(
        r.admin.host("n1").await.unwrap().node.as_deref(),
        Some("worker-1")
    );
    assert_eq!(r.admin.host("n2").await.unwrap().node, None);

    // Another host cannot take the Node, and is told which host holds it.
    let (status, kind, message) = refused(r.admin.bind_node("n2", &bind("worker-1")).await);
    assert_eq!((status, kind), (409, ErrorKind::Conflict));
    assert!(
        message.contains("node-a") && message.contains("n1"),
        "{message}"
    );
    let (status, kind, message) = refused(r.admin.bind_node("n2", &bind("Worker_1")).await);
    assert_eq!((status, kind), (400, ErrorKind::BadRequest), "{message}");
    assert_eq!(
        refused(r.admin.bind_node("nobody", &bind("worker-2")).await).0,
        404
    );
    let (status, _, message) = refused(
        r.admin
            .put::<_, serde_json::Value>(
                "/v1/hosts/n2/node",
                &serde_json::json!({"node": "worker-2", "uuid": "x"}),
            )
            .await,
    );
    assert_eq!(status, 400, "unknown fields are refused: {message}");

    // Rebinding replaces; the freed name can be bound to another host.
    let n = r.admin.bind_node("n1", &bind("worker-9")).await.unwrap();
    assert_eq!(n.node, "worker-9");
    assert_eq!(
        next_trust(&mut events).await.reasons,
        ["bound to Kubernetes node worker-9 (was worker-1)"]
    );
    r.admin.bind_node("n2", &bind("worker-1")).await.unwrap();
    next_trust(&mut events).await;

    // The controller's reads: bound hosts only, and where to resume the stream from.
    let list = r.admin.nodes().await.unwrap();
    let names: Vec<_> = list
        .nodes
        .iter()
        .map(|n| (n.node.as_str(), n.hostname.as_str()))
        .collect();
    assert_eq!(names, [("worker-1", "node-b"), ("worker-9", "node-a")]);
    assert!(list.last_event >= 3, "{}", list.last_event);
    assert!(list.as_of > 0);
    assert_eq!(r.admin.node("n2").await.unwrap().node, "worker-1");
    assert_eq!(refused(r.admin.node("n3").await).0, 404, "unbound");
    assert_eq!(refused(r.admin.node("nobody").await).0, 404);
    // Nothing changed since the list: resuming from its position replays nothing.
    let mut resumed = r
        .admin
        .event_stream("/v1/events", Some(list.last_event))
        .await
        .unwrap();

    // Unbinding, and unbinding what is not bound.
    let gone = r.admin.unbind_node("node-a").await.unwrap();
    assert_eq!(
        (gone.host_id.as_str(), gone.node.as_str()),
        ("n1", "worker-9")
    );
    let e = next_trust(&mut resumed).await;
    assert_eq!(e.reasons, ["unbound from Kubernetes node worker-9"]);
    assert_eq!(next_trust(&mut events).await, e);
    assert_eq!(refused(r.admin.unbind_node("n1").await).0, 404);
    assert_eq!(refused(r.admin.unbind_node("nobody").await).0, 404);
    assert_eq!(refused(r.admin.node("n1").await).0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_hosts_certified_tags_are_published_until_revoked() {
    let r = start().await;
    let mut events = r.admin.event_stream("/v1/events", None).await.unwrap();
    r.admin.bind_node("n3", &bind("worker-3")).await.unwrap();
    // The binding's event is read off a stream opened before it, so that the next event
    // is the tag's (a stream resumed from a list's position may repeat an event the log
    // tailer had not delivered when it opened: seen twice, never missed).
    assert_eq!(
        next_trust(&mut events).await.reasons,
        ["bound to Kubernetes node worker-3"]
    );
    let tags = BTreeMap::from([("region".to_owned(), "EU".to_owned())]);
    r.admin
        .issue_tag("n3", &TagRequest { tags: tags.clone() })
        .await
        .unwrap();
    let e = next_trust(&mut events).await;
    assert_eq!(
        (e.host_id.as_str(), e.previous, e.trust),
        ("n3", TrustState::Unknown, TrustState::Unknown)
    );
    assert_eq!(e.reasons, ["asset tags changed"]);
    assert_eq!(r.admin.node("n3").await.unwrap().asset_tags, tags);

    r.admin.revoke_tag("n3").await.unwrap();
    assert_eq!(
        next_trust(&mut events).await.reasons,
        ["asset tags revoked"]
    );
    assert!(r.admin.node("n3").await.unwrap().asset_tags.is_empty());

    // Deleting a bound host frees its Node, and followers hear of it.
    r.admin.delete_host("n3").await.unwrap();
    assert_eq!(
        next_trust(&mut events).await.reasons,
        ["unbound from Kubernetes node worker-3: host deleted"]
    );
    r.admin.bind_node("n1", &bind("worker-3")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_routes_are_the_administrators_only() {
    let r = start().await;
    let stranger =
        Client::admin(&r.url, r.ca.as_bytes(), "not-the-token", PlainHttp::Refused).unwrap();
    assert_eq!(
        refused(stranger.bind_node("n1", &bind("worker-1")).await).0,
        401
    );
    assert_eq!(refused(stranger.unbind_node("n1").await).0, 401);
    assert_eq!(refused(stranger.nodes().await).0, 401);
    assert_eq!(refused(stranger.node("n1").await).0, 401);
    assert!(
        r.admin.nodes().await.unwrap().nodes.is_empty(),
        "nothing was bound"
    );
}
