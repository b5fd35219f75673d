//! `--policies FILE`: the same webhook with a policy set in force (the facts from memory,
//! as the fact source's caches answer a steady stream), and a third kind of review that
//! the set judges in full: a pod CREATE at the validating hook, the R10 example pod
//! (compliant, so the answer is an admission and every policy is evaluated to the end).

use ironroot_controller::enforce::{policy_file, Enforcement, FixedFacts};
use ironroot_controller::policies::{Policies, ViolationQueue};
use ironroot_controller::webhook::Webhook;
use ironroot_policy::example;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

/// `hook` enforcing the set in `path`; violations go to a queue the benchmark drains.
pub fn enforcing(hook: Webhook, path: &Path) -> anyhow::Result<Webhook> {
    let active = policy_file(path)?;
    anyhow::ensure!(
        !active.set.policies().is_empty(),
        "{} holds no policy",
        path.display()
    );
    let mut facts = example::facts(ironroot_timestamp::now_unix());
    facts.node = None;
    let (queue, mut rx) = ViolationQueue::new();
    // What the hub reporter would do: take them off the queue.
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    Ok(hook.with_enforcement(Enforcement {
        policies: Arc::new(Policies::new(Some(active))),
        facts: Arc::new(FixedFacts {
            facts,
            views: Some(Arc::new(super::reviews::views())),
        }),
        violations: Some(queue),
    }))
}

/// A pod CREATE of the R10 example pod (made by a ReplicaSet: no node yet) at the
/// validating hook, shaped as `review` shapes the others.
pub fn pod_create(uid: &str) -> Value {
    let mut pod = example::pod_json();
    if let Some(spec) = pod["spec"].as_object_mut() {
        spec.remove("nodeName");
    }
    pod["apiVersion"] = json!("v1");
    pod["kind"] = json!("Pod");
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web-1", "namespace": "apps", "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                         "groups": ["system:authenticated"]},
            "object": pod, "oldObject": null, "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    })
}
