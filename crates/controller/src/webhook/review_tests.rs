#![allow(clippy::unwrap_used, clippy::panic)]
use super::super::{FixedImages, FixedPods, ImageResolver, KeyNeeds, PodSource};
use super::*;
use crate::view::{NodeView, NodeViews};
use ironroot_api::TrustState;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

struct Views(HashMap<String, NodeView>);

impl NodeViews for Views {
    fn view(&self, node: &str) -> NodeView {
        self.0
            .get(node)
            .cloned()
            .unwrap_or_else(|| NodeView::unknown("no host is bound to this Node"))
    }
}

/// Answers after a while: a registry slower than the deadline.
struct Slow;

impl ImageResolver for Slow {
    fn resolve<'a>(&'a self, _image: &'a str) -> super::super::BoxFuture<'a, ImageNeeds> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            ImageNeeds::Plain
        })
    }
}

fn view(trust: TrustState, region: &str) -> NodeView {
    NodeView {
        trust,
        tags: BTreeMap::from([("region".to_string(), region.to_string())]),
        host_id: Some("h".into()),
        reason: if trust == TrustState::Trusted {
            String::new()
        } else {
            "PCR 10 changed".into()
        },
        pod_pids_limit: None,
    }
}

fn hook_with(images: Arc<dyn ImageResolver>, pods: Vec<Pod>) -> Webhook {
    let views = Views(HashMap::from([
        ("eu-1".to_string(), view(TrustState::Trusted, "EU")),
        ("us-1".to_string(), view(TrustState::Trusted, "US")),
        ("eu-bad".to_string(), view(TrustState::Untrusted, "EU")),
    ]));
    let pods: HashMap<(String, String), Pod> = pods
        .into_iter()
        .map(|p| (("apps".to_string(), p.metadata.name.clone().unwrap()), p))
        .collect();
    let pods: Arc<dyn PodSource> = Arc::new(FixedPods(pods));
    Webhook::new(Arc::new(views), pods, images).with_deadline(Duration::from_millis(200))
}

fn images() -> Arc<dyn ImageResolver> {
    let eu = ImageNeeds::Encrypted(vec![KeyNeeds {
        key: "eu-app".into(),
        tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
    }]);
    Arc::new(FixedImages(HashMap::from([
        ("reg/eu:1".to_string(), eu),
        (
            "reg/us:1".to_string(),
            ImageNeeds::Encrypted(vec![KeyNeeds {
                key: "us-app".into(),
                tags: BTreeMap::from([("region".to_string(), "US".to_string())]),
            }]),
        ),
        (
            "reg/gone:1".to_string(),
            ImageNeeds::Unresolved("the registry did not answer".into()),
        ),
    ])))
}

fn pod_json(name: &str, image: &str, extra: Value) -> Value {
    let mut spec = json!({"containers": [{"name": "c", "image": image}]});
    if let Value::Object(m) = extra {
        spec.as_object_mut().unwrap().extend(m);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "apps"}, "spec": spec})
}

fn request(sub: Option<&str>, name: &str, object: Value) -> Request {
    let kind = if sub.is_some() { "Binding" } else { "Pod" };
    serde_json::from_value(json!({
        "uid": "uid-42",
        "kind": {"group": "", "version": "v1", "kind": kind},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "subResource": sub,
        "name": name,
        "namespace": "apps",
        "operation": "CREATE",
        "userInfo": {"username": "system:kube-scheduler"},
        "object": object,
        "oldObject": null
    }))
    .unwrap()
}

fn binding(pod: &str, node: &str) -> Request {
    request(
        Some("binding"),
        pod,
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod, "namespace": "apps"}, "target": {"kind": "Node", "name": node}}),
    )
}

fn pod(name: &str, image: &str, extra: Value) -> Pod {
    serde_json::from_value(pod_json(name, image, extra)).unwrap()
}

fn refused(res: &AdmissionResponse) -> &str {
    assert!(!res.allowed, "allowed, expected a refusal");
    assert_eq!((res.uid.as_str(), res.result.code), ("uid-42", 403));
    &res.result.message
}

#[tokio::test]
async fn an_encrypted_pod_is_patched_and_a_plain_one_is_not() {
    let hook = hook_with(images(), vec![]);
    let res = hook
        .mutate(&request(None, "w", pod_json("w", "reg/eu:1", json!({}))))
        .await;
    assert!(res.allowed && res.uid == "uid-42");
    let patch: Value = serde_json::from_slice(res.patch.as_ref().unwrap()).unwrap();
    assert_eq!(patch[0]["path"], "/spec/affinity");
    assert_eq!(res.warnings, None);

    let res = hook
        .mutate(&request(None, "p", pod_json("p", "reg/plain:1", json!({}))))
        .await;
    assert!(res.allowed && res.patch.is_none());
    // Not a pod CREATE: not looked at.
    let mut update = request(None, "w", pod_json("w", "reg/eu:1", json!({})));
    update.operation = Operation::Update;
    let res = hook.mutate(&update).await;
    assert!(res.allowed && res.patch.is_none());
}

#[tokio::test]
async fn conflicting_images_are_refused_and_unresolved_ones_warned_about() {
    let hook = hook_with(images(), vec![]);
    let two = json!({"initContainers": [{"name": "i", "image": "reg/us:1"}]});
    let res = hook
        .mutate(&request(None, "w", pod_json("w", "reg/eu:1", two)))
        .await;
    let m = refused(&res);
    assert!(m.contains("reg/us:1") && m.contains("reg/eu:1"), "{m}");

    let res = hook
        .mutate(&request(None, "w", pod_json("w", "reg/gone:1", json!({}))))
        .await;
    assert!(res.allowed && res.patch.is_none());
    let w = res.warnings.unwrap();
    assert!(
        w[0].contains("reg/gone:1") && w[0].contains("did not answer"),
        "{w:?}"
    );
}

#[tokio::test]
async fn a_slow_registry_ends_at_the_deadline_with_a_warning() {
    let hook = hook_with(Arc::new(Slow), vec![]);
    let started = std::time::Instant::now();
    let res = hook
        .mutate(&request(None, "w", pod_json("w", "reg/eu:1", json!({}))))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(res.allowed && res.patch.is_none());
    assert!(res.warnings.unwrap()[0].contains("did not answer within"));
}

#[tokio::test]
async fn pods_created_on_a_node_are_checked_and_others_left_to_the_scheduler() {
    let hook = hook_with(images(), vec![]);
    let res = hook
        .validate(&request(None, "w", pod_json("w", "reg/eu:1", json!({}))))
        .await;
    assert!(res.allowed, "no nodeName: the scheduler decides");
    let on = |node: &str| json!({"nodeName": node});
    let res = hook
        .validate(&request(None, "w", pod_json("w", "reg/eu:1", on("eu-1"))))
        .await;
    assert!(res.allowed);
    let res = hook
        .validate(&request(None, "w", pod_json("w", "reg/eu:1", on("us-1"))))
        .await;
    assert!(refused(&res).contains("node us-1 lacks the asset tag region=EU (it has region=US)"));
    let res = hook
        .validate(&request(
            None,
            "w",
            pod_json("w", "reg/plain:1", on("eu-bad")),
        ))
        .await;
    assert!(refused(&res).contains("node eu-bad is untrusted (PCR 10 changed)"));
    let res = hook
        .validate(&request(
            None,
            "w",
            pod_json("w", "reg/plain:1", on("nowhere")),
        ))
        .await;
    assert!(refused(&res).contains("node nowhere is unknown (no host is bound to this Node)"));
    // The agent's DaemonSet tolerates the taint: its plain pod lands.
    let tolerating = json!({"nodeName": "eu-bad", "tolerations": [{"operator": "Exists"}]});
    let res = hook
        .validate(&request(
            None,
            "a",
            pod_json("a", "reg/plain:1", tolerating),
        ))
        .await;
    assert!(res.allowed);
    // An unresolved image on a trusted node: allowed, with a warning.
    let res = hook
        .validate(&request(None, "w", pod_json("w", "reg/gone:1", on("us-1"))))
        .await;
    assert!(res.allowed && res.warnings.is_some());
}

#[tokio::test]
async fn bindings_are_checked_against_the_bound_pod() {
    let hook = hook_with(
        images(),
        vec![
            pod("w", "reg/eu:1", json!({})),
            pod("p", "reg/plain:1", json!({})),
        ],
    );
    assert!(hook.validate(&binding("w", "eu-1")).await.allowed);
    let res = hook.validate(&binding("w", "us-1")).await;
    assert!(refused(&res).contains("node us-1 lacks the asset tag region=EU"));
    let res = hook.validate(&binding("p", "eu-bad")).await;
    assert!(refused(&res).contains("node eu-bad is untrusted"));
    let res = hook.validate(&binding("ghost", "eu-1")).await;
    assert!(refused(&res).contains("pod apps/ghost does not exist"));
    let mut bad = binding("w", "eu-1");
    bad.object = None;
    assert!(refused(&hook.validate(&bad).await).contains("carries no Binding"));
    // The legacy bindings resource is the same binding.
    let mut legacy = binding("w", "us-1");
    (legacy.resource.resource, legacy.sub_resource) = ("bindings".into(), None);
    assert!(refused(&hook.validate(&legacy).await).contains("node us-1 lacks"));
    // Other subresources are not this hook's business.
    let mut status = binding("w", "us-1");
    status.sub_resource = Some("status".into());
    assert!(hook.validate(&status).await.allowed);
}
