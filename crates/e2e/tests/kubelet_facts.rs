//! The node-pid-limit fact end to end (issue 14, R10): a real agent (swtpm) reads the
//! kubelet's config file, kubeadm's shape, at each attestation and sends its
//! `podPidsLimit` with the evidence; the service keeps the latest one with the host and
//! serves it on `GET /v1/nodes`, logs a re-read event when it changes (so the controller
//! republishes the Node), and never lets it change a verdict.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{kubelet::MAX_KUBELET_CONFIG, Session};
use ironroot_api::{BindNode, FlavorsFromHostRequest};
use ironroot_e2e::{peers_available, EventReader, Node, Platform, TempDir};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn kubeadm_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../agent/tests/fixtures/kubelet")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubelets_pid_limit_travels_with_evidence_to_the_nodes_list_and_never_moves_trust() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("kubelet-facts").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let kubelet_config = dir.0.join("node-1/var-lib-kubelet-config.yaml");
    std::fs::copy(kubeadm_fixture("kubeadm-pids-4096.yaml"), &kubelet_config).unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let mut cfg = node.agent_config(&p.url(), &p.service.ca_pem);
    cfg.kubelet_config = Some(kubelet_config.clone());
    let mut s = Session::new(cfg, Box::new(node.open_tpm().unwrap())).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    let bind = BindNode {
        node: "worker-1".into(),
    };
    p.admin.bind_node(&host_id, &bind).await.unwrap();
    assert_eq!(p.admin.node(&host_id).await.unwrap().pod_pids_limit, None);

    // No flavor yet: an untrusted verdict still records the limit.
    assert!(!s.attest_once().await.unwrap().trusted);
    let list = p.admin.nodes().await.unwrap();
    assert_eq!(list.nodes.len(), 1);
    assert_eq!(list.nodes[0].pod_pids_limit, Some(4096));

    // Golden flavors from the host: trusted, the limit unchanged, and no event for it.
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    p.admin.flavors_from_host(&req).await.unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    let before = p.admin.nodes().await.unwrap();
    assert_eq!(before.nodes[0].pod_pids_limit, Some(4096));
    assert!(s.attest_once().await.unwrap().trusted);
    let after = p.admin.nodes().await.unwrap();
    assert_eq!(
        after.last_event, before.last_event,
        "an unchanged limit writes nothing"
    );

    // The operator lifts the limit: a re-read event, and the Node shows -1; trust stays.
    let mut events = EventReader::open(&p.admin, Some(after.last_event))
        .await
        .unwrap();
    std::fs::copy(
        kubeadm_fixture("kubeadm-pids-unlimited.yaml"),
        &kubelet_config,
    )
    .unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    let (_, e) = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (e.host_id.as_str(), e.previous),
        (host_id.as_str(), e.trust)
    );
    assert_eq!(
        e.reasons,
        ["kubelet podPidsLimit changed from 4096 to -1".to_string()]
    );
    assert_eq!(
        p.admin.node(&host_id).await.unwrap().pod_pids_limit,
        Some(-1)
    );

    // A file over the limit is not sent: the fact is absent, the verdict unchanged.
    let mut big = std::fs::read_to_string(kubeadm_fixture("kubeadm-pids-4096.yaml")).unwrap();
    while big.len() as u64 <= MAX_KUBELET_CONFIG {
        big.push_str("# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&kubelet_config, big).unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    let (_, e) = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        e.reasons,
        ["kubelet podPidsLimit changed from -1 to none".to_string()]
    );
    assert_eq!(p.admin.node(&host_id).await.unwrap().pod_pids_limit, None);

    // No file: no kubelet, nothing sent, still trusted; back again, back on the Node.
    std::fs::remove_file(&kubelet_config).unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    assert_eq!(p.admin.node(&host_id).await.unwrap().pod_pids_limit, None);
    std::fs::copy(kubeadm_fixture("kubeadm-pids-4096.yaml"), &kubelet_config).unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    assert_eq!(
        p.admin.node(&host_id).await.unwrap().pod_pids_limit,
        Some(4096)
    );
}
