//! The workload records (pure, and through the in-memory hub): when a pod counts as run,
//! which digests a record carries, one record per change, deleted pods forgotten, and
//! batches within the contract that survive the hub's failures.

use super::fake::FakeHub;
use super::workloads::{gather, record_of, send, Seen};
use super::HubStats;
use ironroot_api::{WorkloadBinding, MAX_WORKLOAD_BATCH};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::Event;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// Pod `name` (uid `u-name`) with one init container and one container; `node`,
/// `phase` and the containers' `imageID`s as given (`""`: none yet).
fn pod(name: &str, node: Option<&str>, phase: &str, ids: [&str; 2]) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "apps", "uid": format!("u-{name}") },
        "spec": {
            "nodeName": node,
            "initContainers": [{ "name": "init", "image": "registry.local:5000/init:1" }],
            "containers": [{ "name": "app", "image": "registry.local:5000/app:1" }]
        },
        "status": {
            "phase": phase,
            "initContainerStatuses": [{ "name": "init", "image": "registry.local:5000/init:1",
                "imageID": ids[0], "ready": false, "restartCount": 0 }],
            "containerStatuses": [{ "name": "app", "image": "registry.local:5000/app:1",
                "imageID": ids[1], "ready": true, "restartCount": 0 }]
        }
    }))
    .unwrap()
}

#[test]
fn a_pod_is_recorded_once_it_ran_on_its_node_with_the_digests_its_runtime_reported() {
    let a = format!("registry.local:5000/app@{}", digest('a'));
    let b = format!("docker-pullable://init@{}", digest('b'));
    assert!(
        record_of(&pod("p", None, "Pending", ["", ""]), 1).is_none(),
        "unbound"
    );
    assert!(
        record_of(&pod("p", Some("node-1"), "Pending", [&b, ""]), 1).is_none(),
        "still pulling its image"
    );
    let w = record_of(&pod("p", Some("node-1"), "Pending", [&b, &a]), 5).unwrap();
    assert_eq!(
        (
            w.namespace.as_str(),
            w.pod.as_str(),
            w.uid.as_str(),
            w.node.as_str(),
            w.at
        ),
        ("apps", "p", "u-p", "node-1", 5)
    );
    let digests: Vec<_> = w
        .images
        .iter()
        .map(|i| (i.container.as_str(), i.digest.clone()))
        .collect();
    assert_eq!(
        digests,
        [("init", Some(digest('b'))), ("app", Some(digest('a')))]
    );
    // A runtime that reports no digest (kwok): recorded once Running, digests unknown.
    let w = record_of(
        &pod("p", Some("node-1"), "Running", ["", "not-a-digest"]),
        5,
    )
    .unwrap();
    assert!(w.images.iter().all(|i| i.digest.is_none()));
    assert_eq!(w.images[1].image, "registry.local:5000/app:1");
}

#[test]
fn each_pod_is_reported_once_per_change_and_a_deleted_pod_is_forgotten() {
    let mut seen = Seen::default();
    let a = digest('a');
    let running = pod("p", Some("node-1"), "Running", ["", &a]);
    assert!(seen.on_event(Event::Apply(running.clone()), 1).is_some());
    assert!(
        seen.on_event(Event::Apply(running.clone()), 2).is_none(),
        "unchanged"
    );
    let changed = pod("p", Some("node-1"), "Running", [&a, &a]);
    assert!(
        seen.on_event(Event::Apply(changed.clone()), 3).is_some(),
        "a digest arrived"
    );
    // A re-list that no longer holds the pod forgets it; one that does, keeps it.
    seen.on_event(Event::Init, 4);
    assert!(seen
        .on_event(Event::InitApply(changed.clone()), 4)
        .is_none());
    seen.on_event(Event::InitDone, 4);
    assert!(seen.on_event(Event::Apply(changed.clone()), 5).is_none());
    seen.on_event(Event::Delete(changed.clone()), 6);
    assert!(
        seen.on_event(Event::Apply(changed), 7).is_some(),
        "forgotten once deleted"
    );
}

fn record(i: usize) -> WorkloadBinding {
    record_of(
        &pod(&format!("p{i}"), Some("node-1"), "Running", ["", ""]),
        1,
    )
    .unwrap()
}

#[tokio::test]
async fn records_reach_the_hub_in_bounded_batches_after_its_failures() {
    let hub = Arc::new(FakeHub::default());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let total = MAX_WORKLOAD_BATCH + 3;
    for i in 0..total {
        tx.send(record(i)).await.unwrap();
    }
    drop(tx);
    let stats = HubStats::default();
    hub.down.store(true, Ordering::SeqCst);
    let first = gather(&mut rx).await.unwrap();
    assert_eq!(first.workloads.len(), MAX_WORKLOAD_BATCH);
    let sending = {
        let hub = hub.clone();
        tokio::spawn(async move {
            let stats = HubStats::default();
            send(hub.as_ref(), &first, &stats).await;
            HubStats::get(&stats.workload_batches_failed)
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    hub.down.store(false, Ordering::SeqCst);
    assert!(sending.await.unwrap() >= 1, "retried after the hub failed");
    let second = gather(&mut rx).await.unwrap();
    send(hub.as_ref(), &second, &stats).await;
    assert!(gather(&mut rx).await.is_none());
    let got = hub.workloads.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].workloads.len(), 3);
    assert_eq!(got[1].workloads[2].pod, format!("p{}", total - 1));
    assert_eq!(HubStats::get(&stats.workloads_sent), 3);
}
