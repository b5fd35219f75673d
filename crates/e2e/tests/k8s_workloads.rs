//! The workload records of the audit trail against a real control plane (kube-apiserver
//! v1.37, kube-scheduler and kwok Nodes): a pod the scheduler binds to a Node reaches the
//! hub as one record (namespace, name, UID, Node, images), and a pod that is never bound
//! does not. kwok reports no `imageID`, so the records carry no digests here; the
//! digests' path from `imageID` is covered by the controller's unit tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "k8s/governance_support.rs"]
mod support;

use ironroot_api::{ComplianceReport, SignedBundle, ViolationBatch, WorkloadBatch};
use ironroot_controller::hub::{workloads, Delivery, Hub, HubError, HubStats};
use ironroot_controller::webhook::BoxFuture;
use ironroot_crypto::JwkSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::*;

/// A hub that records the workload batches it is sent.
#[derive(Default)]
struct WorkloadHub {
    batches: Mutex<Vec<WorkloadBatch>>,
}

impl Hub for WorkloadHub {
    fn bundle(&self, _have: Option<u64>) -> BoxFuture<'_, Result<Option<SignedBundle>, HubError>> {
        Box::pin(async { Ok(None) })
    }
    fn jwks(&self) -> BoxFuture<'_, Result<JwkSet, HubError>> {
        Box::pin(async { Ok(JwkSet::default()) })
    }
    fn report_compliance<'a>(
        &'a self,
        _r: &'a ComplianceReport,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async { Ok(()) })
    }
    fn report_violations<'a>(
        &'a self,
        _b: &'a ViolationBatch,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async { Ok(()) })
    }
    fn report_workloads<'a>(
        &'a self,
        b: &'a WorkloadBatch,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async move {
            self.batches.lock().unwrap().push(b.clone());
            Ok(Delivery::Taken { recorded: true })
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_the_scheduler_binds_to_a_node_is_reported_to_the_hub_with_its_node() {
    let Some((_c, kube)) = start().await else {
        return;
    };
    namespace(&kube, "apps").await;
    let hub = Arc::new(WorkloadHub::default());
    let stats = Arc::new(HubStats::default());
    let watch = tokio::spawn(workloads::run(kube.clone(), hub.clone(), stats.clone()));

    let pods: Api<Pod> = Api::namespaced(kube.clone(), "apps");
    let spec = |name: &str, selector: serde_json::Value| {
        serde_json::from_value::<Pod>(json!({
            "metadata": { "name": name },
            "spec": {
                "automountServiceAccountToken": false,
                "nodeSelector": selector,
                "tolerations": [{ "operator": "Exists" }],
                "containers": [{ "name": "c", "image": "registry.local:5000/app:1" }]
            }
        }))
        .unwrap()
    };
    // No nodeName: kube-scheduler binds it. The second pod fits no Node and stays Pending.
    let created = pods
        .create(&PostParams::default(), &spec("web", json!({})))
        .await
        .unwrap();
    pods.create(
        &PostParams::default(),
        &spec("nowhere", json!({ "no-such-label": "x" })),
    )
    .await
    .unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    let records = || {
        hub.batches
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b.workloads.clone())
            .collect::<Vec<_>>()
    };
    wait("the bound pod's record at the hub", || async {
        records().iter().any(|w| w.uid == uid)
    })
    .await;
    let bound = pods.get("web").await.unwrap();
    let node = bound.spec.unwrap().node_name.expect("scheduled");
    let got = records();
    let w = got.iter().find(|w| w.uid == uid).unwrap();
    assert_eq!(
        (w.namespace.as_str(), w.pod.as_str(), w.node.as_str()),
        ("apps", "web", node.as_str())
    );
    assert_eq!(w.images.len(), 1);
    assert_eq!(
        (w.images[0].container.as_str(), w.images[0].image.as_str()),
        ("c", "registry.local:5000/app:1")
    );
    assert_eq!(w.images[0].digest, None, "kwok reports no imageID");
    assert!(
        !got.iter().any(|w| w.pod == "nowhere"),
        "a pod bound to no Node is not a workload record"
    );
    assert_eq!(
        got.iter().filter(|w| w.uid == uid).count(),
        1,
        "one record per pod while nothing changes"
    );
    assert!(HubStats::get(&stats.workloads_sent) >= 1);
    watch.abort();
}
