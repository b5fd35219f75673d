//! What the benchmark's webhook knows (Node views, the pod a binding names, the images'
//! needs, all from memory) and the AdmissionReviews it is sent, shaped as kube-apiserver
//! sends them.

use ironroot_api::TrustState;
use ironroot_controller::webhook::{FixedImages, FixedPods, ImageNeeds, KeyNeeds, Webhook};
use ironroot_controller::{NodeView, NodeViews};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const EU_IMAGE: &str = "registry.example:5000/apps/eu-app@sha256:5b0c6e7f3c0c7a1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192";
const SIDECAR: &str = "registry.example:5000/infra/log-shipper:1.4.2";

pub struct Views(HashMap<String, NodeView>);

impl NodeViews for Views {
    fn view(&self, node: &str) -> NodeView {
        self.0
            .get(node)
            .cloned()
            .unwrap_or_else(|| NodeView::unknown("no host is bound to this Node"))
    }
}

pub fn views() -> Views {
    let node = |trust, region: &str| NodeView {
        trust,
        tags: BTreeMap::from([
            ("region".to_string(), region.to_string()),
            ("rack".to_string(), "r7".to_string()),
        ]),
        host_id: Some(format!("host-{region}")),
        reason: match trust {
            TrustState::Trusted => String::new(),
            _ => "PCR 10 does not match any flavor".into(),
        },
        pod_pids_limit: None,
    };
    let mut m = HashMap::new();
    for i in 1..=3 {
        m.insert(format!("eu-{i}"), node(TrustState::Trusted, "EU"));
        m.insert(format!("us-{i}"), node(TrustState::Trusted, "US"));
    }
    m.insert("eu-bad".into(), node(TrustState::Untrusted, "EU"));
    Views(m)
}

/// A pod as the mutating webhook sees it: defaults and the service account's projected
/// volume already applied by the API server.
fn pod(name: &str) -> Value {
    let container = |n: &str, image: &str| {
        json!({
            "name": n, "image": image, "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "REGION", "value": "EU"}, {"name": "LOG_LEVEL", "value": "info"}],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": [{"name": "kube-api-access-x7k2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}
        })
    };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": "eu-app-7d9f8b6c5-", "namespace": "apps",
            "labels": {"app": "eu-app", "pod-template-hash": "7d9f8b6c5"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "eu-app-7d9f8b6c5", "uid": "6f1d2c3b-4a5e-4f60-9b7a-8c9d0e1f2a3b", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "containers": [container("app", EU_IMAGE), container("log-shipper", SIDECAR)],
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
            "schedulerName": "default-scheduler", "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"}
    })
}

/// The review of request `i` of a phase: even ones a pod CREATE (mutated), odd ones a
/// pods/binding (validated; every fifth to a US node, refused). Its path and the
/// answer's expected `allowed`. `governed` (a policy set in force): thirds instead, the
/// middle one a pod CREATE at the validating hook, which the set judges in full.
pub fn review(i: usize, governed: bool) -> (&'static str, Value, bool) {
    let uid = format!("0b6f1c9e-6c1e-4a8e-9f4b-{i:012}");
    let (creates, to_us) = match governed {
        true if i % 3 == 1 => return ("/validate/pods", super::governed::pod_create(&uid), true),
        true => (i.is_multiple_of(3), i % 15 == 2),
        false => (i.is_multiple_of(2), i % 10 == 1),
    };
    let user = |u: &str| json!({"username": u, "groups": ["system:authenticated"]});
    let request = |kind: &str, sub: Option<&str>, object: Value, user: Value| {
        json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": uid, "kind": {"group": "", "version": "v1", "kind": kind},
                "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": sub,
                "requestKind": {"group": "", "version": "v1", "kind": kind},
                "requestResource": {"group": "", "version": "v1", "resource": "pods"},
                "requestSubResource": sub,
                "name": "eu-app-7d9f8b6c5-q2x4z", "namespace": "apps", "operation": "CREATE",
                "userInfo": user, "object": object, "oldObject": null, "dryRun": false,
                "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
            }
        })
    };
    if creates {
        let sa = user("system:serviceaccount:kube-system:replicaset-controller");
        ("/mutate/pods", request("Pod", None, pod(""), sa), true)
    } else {
        let node = if to_us { "us-1" } else { "eu-1" };
        let binding = json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "eu-app-7d9f8b6c5-q2x4z", "namespace": "apps", "uid": uid},
            "target": {"kind": "Node", "name": node}});
        let sched = user("system:kube-scheduler");
        (
            "/validate/pods",
            request("Binding", Some("binding"), binding, sched),
            node != "us-1",
        )
    }
}

pub fn hook() -> anyhow::Result<Webhook> {
    let named: Pod = serde_json::from_value(pod("eu-app-7d9f8b6c5-q2x4z"))?;
    let pods = FixedPods(HashMap::from([(
        ("apps".to_string(), "eu-app-7d9f8b6c5-q2x4z".to_string()),
        named,
    )]));
    let eu = ImageNeeds::Encrypted(vec![KeyNeeds {
        key: "eu-app".into(),
        tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
    }]);
    let images = FixedImages(HashMap::from([(EU_IMAGE.to_string(), eu)]));
    Ok(Webhook::new(
        Arc::new(views()),
        Arc::new(pods),
        Arc::new(images),
    ))
}
