#![allow(clippy::unwrap_used, clippy::panic)]
use super::super::decide::pod_images;
use super::super::{BoxFuture, FixedImages, FixedPods, Webhook};
use super::*;
use crate::enforce::Enforcement;
use crate::policies::{Active, FactSource, Policies, ViolationQueue};
use crate::view::{NodeView, NodeViews};
use ironroot_api::ViolationEvent;
use ironroot_policy::example::{self, IMAGE, R10_SET_YAML};
use ironroot_policy::{Facts, PolicySet};
use kube::core::admission::AdmissionResponse;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::Receiver;

struct Views;

impl NodeViews for Views {
    fn view(&self, _node: &str) -> NodeView {
        NodeView::unknown("not asked: the pod already runs")
    }
}

/// The example facts for every pod, remembering the images each pod asked about.
#[derive(Default)]
struct Recording(Mutex<Vec<Vec<String>>>);

impl FactSource for Recording {
    fn facts<'a>(&'a self, pod: &'a Pod, _deadline: Duration) -> BoxFuture<'a, Facts> {
        self.0.lock().unwrap().push(pod_images(pod));
        Box::pin(async { example::facts(ironroot_timestamp::now_unix()) })
    }
}

fn hook(set: &str) -> (Webhook, Arc<Recording>, Receiver<ViolationEvent>) {
    let policies = Arc::new(Policies::new(Some(Active {
        set: PolicySet::from_yaml(set.as_bytes()).unwrap(),
        cluster: "east".into(),
        version: 1,
    })));
    let facts = Arc::new(Recording::default());
    let (queue, rx) = ViolationQueue::new();
    let hook = Webhook::new(
        Arc::new(Views),
        Arc::new(FixedPods(HashMap::new())),
        Arc::new(FixedImages(HashMap::new())),
    )
    .with_enforcement(Enforcement {
        policies,
        facts: facts.clone(),
        violations: Some(queue),
    });
    (hook, facts, rx)
}

/// What `kubectl debug --profile=restricted` adds, with the example's image: it passes R10.
fn debugger(name: &str) -> Value {
    json!({"name": name, "image": IMAGE, "targetContainerName": "app", "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": true}})
}

/// The example pod with these ephemeral containers.
fn with(ephemeral: &[Value]) -> Value {
    let mut pod = example::pod_json();
    if !ephemeral.is_empty() {
        pod["spec"]["ephemeralContainers"] = json!(ephemeral);
    }
    pod
}

fn update(kind: &str, old: Value, new: Value) -> Request {
    serde_json::from_value(json!({
        "uid": "uid-9",
        "kind": {"group": "", "version": "v1", "kind": kind},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "subResource": "ephemeralcontainers",
        "name": "web-1",
        "namespace": "apps",
        "operation": "UPDATE",
        "userInfo": {"username": "alice"},
        "object": new,
        "oldObject": old
    }))
    .unwrap()
}

fn refusal(res: &AdmissionResponse) -> &str {
    assert!(!res.allowed, "admitted, expected a refusal");
    assert_eq!(res.result.code, 403);
    &res.result.message
}

fn events(rx: &mut Receiver<ViolationEvent>) -> Vec<ViolationEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn pod(v: Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

#[test]
fn only_the_ephemeral_containers_an_update_adds_are_judged() {
    let old = pod(with(&[debugger("one")]));
    let new = pod(with(&[debugger("one"), debugger("two")]));
    let judged = added(Some(&old), new.clone()).unwrap();
    let spec = judged.spec.as_ref().unwrap();
    let names: Vec<&str> = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["two"]);
    assert!(spec.containers.is_empty() && spec.init_containers.is_none());
    // The pod's own fields stay: the new container runs under them.
    assert_eq!(spec.node_name.as_deref(), Some("node-1"));
    assert_eq!(
        spec.security_context,
        old.spec.as_ref().unwrap().security_context
    );
    // Nothing new: nothing to judge.
    assert!(added(Some(&old), old.clone()).is_none());
    assert!(added(None, pod(with(&[]))).is_none());
    // Changed under an old name (the API server forbids it): judged all the same.
    let mut changed = with(&[debugger("one")]);
    changed["spec"]["ephemeralContainers"][0]["image"] = json!("docker.io/library/busybox");
    assert!(added(Some(&old), pod(changed)).is_some());
    // No old pod to compare with: every ephemeral container is new.
    let all = added(None, new).unwrap();
    assert_eq!(all.spec.unwrap().ephemeral_containers.unwrap().len(), 2);
}

#[test]
fn only_an_update_of_the_ephemeralcontainers_subresource_is_one() {
    let req = update("Pod", with(&[]), with(&[debugger("d")]));
    assert!(updates_ephemeral(&req));
    let mut other = req.clone();
    other.sub_resource = None;
    assert!(!updates_ephemeral(&other));
    let mut create = req.clone();
    create.operation = Operation::Create;
    assert!(!updates_ephemeral(&create));
    // The pre-1.22 object is refused rather than read as a Pod with nothing in it.
    let legacy = update(
        "EphemeralContainers",
        json!(null),
        json!({"metadata": {"name": "web-1"}, "ephemeralContainers": [debugger("d")]}),
    );
    assert!(to_judge(&legacy).unwrap_err().contains("not a Pod"));
}

#[tokio::test]
async fn an_unapproved_registry_debugger_is_refused_and_only_its_image_is_looked_up() {
    let (hook, facts, mut rx) = hook(R10_SET_YAML);
    let mut busybox = debugger("debugger-x1");
    busybox["image"] = json!("docker.io/library/busybox:1.36");
    let res = hook
        .validate(&update("Pod", with(&[]), with(&[busybox])))
        .await;
    let m = refusal(&res);
    assert!(
        m.contains("approved-registries: image docker.io/library/busybox:1.36 comes from"),
        "{m}"
    );
    assert_eq!(
        *facts.0.lock().unwrap(),
        [vec!["docker.io/library/busybox:1.36".to_owned()]],
        "the pod's own image is not looked up again"
    );
    let seen = events(&mut rx);
    assert!(
        seen.iter().any(|e| e.policy == "approved-registries"),
        "{seen:?}"
    );
    assert!(seen.iter().all(|e| e.object.name == "web-1"));
}

#[tokio::test]
async fn a_privileged_debugger_is_refused_and_warned_of_in_audit_mode() {
    let mut privileged = debugger("debugger-x2");
    privileged["securityContext"] = json!({"privileged": true});
    let req = update("Pod", with(&[]), with(&[privileged]));
    let (enforcing, _, _rx) = hook(R10_SET_YAML);
    let m = refusal(&enforcing.validate(&req).await).to_owned();
    assert!(m.starts_with("refused by ironroot policy: "), "{m}");
    assert!(
        m.contains("no-privileged: container debugger-x2 is privileged"),
        "{m}"
    );
    assert!(m.contains("pod-security-restricted: "), "{m}");

    let (audit, _, mut rx) = hook(&R10_SET_YAML.replace("mode: enforce", "mode: audit"));
    let res = audit.validate(&req).await;
    assert!(res.allowed, "{}", res.result.message);
    let w = res.warnings.unwrap();
    assert!(
        w.iter()
            .any(|w| w.starts_with("policy no-privileged (audit): container debugger-x2")),
        "{w:?}"
    );
    assert!(events(&mut rx).iter().any(|e| e.policy == "no-privileged"));
}

#[tokio::test]
async fn the_old_containers_are_not_judged_again_and_nothing_new_is_admitted() {
    let (hook, facts, mut rx) = hook(R10_SET_YAML);
    // A pod admitted before the policy: its app container is privileged.
    let mut old = with(&[]);
    old["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let mut new = old.clone();
    new["spec"]["ephemeralContainers"] = json!([debugger("debugger-x3")]);
    let res = hook.validate(&update("Pod", old, new.clone())).await;
    assert!(res.allowed, "{}", res.result.message);
    assert_eq!(res.warnings, None);
    assert!(events(&mut rx).is_empty());
    // An update with nothing new in it: admitted without a look.
    let res = hook.validate(&update("Pod", new.clone(), new)).await;
    assert!(res.allowed && res.warnings.is_none());
    assert_eq!(facts.0.lock().unwrap().len(), 1, "judged once");
}
