#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;
use crate::policies::{Active, Policies, ViolationQueue};
use crate::view::{NodeView, NodeViews};
use crate::webhook::{FixedImages, FixedPods, Webhook};
use ironroot_api::{TrustState, ViolationAction, ViolationEvent};
use ironroot_policy::example::{self, R10_SET_YAML};
use ironroot_policy::{PolicySet, SignatureFact};
use kube::core::admission::{AdmissionRequest, AdmissionResponse};
use kube::core::DynamicObject;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::mpsc::Receiver;

struct Views;

impl NodeViews for Views {
    fn view(&self, node: &str) -> NodeView {
        match node {
            "node-1" => NodeView {
                trust: TrustState::Trusted,
                tags: BTreeMap::from([("region".into(), "eu".into())]),
                host_id: Some("h1".into()),
                reason: String::new(),
                pod_pids_limit: None,
            },
            _ => NodeView::unknown("no host is bound to this Node"),
        }
    }
}

/// The R10 set (its text edited by `edit`) in force, facts `facts` for every pod.
fn hook(edit: impl Fn(String) -> String, facts: Facts) -> (Webhook, Receiver<ViolationEvent>) {
    let set = PolicySet::from_yaml(edit(R10_SET_YAML.to_owned()).as_bytes()).unwrap();
    let policies = Arc::new(Policies::new(Some(Active {
        set,
        cluster: "east".into(),
        version: 1,
    })));
    let (queue, rx) = ViolationQueue::new();
    let enforcement = Enforcement {
        policies,
        facts: Arc::new(FixedFacts { facts, views: None }),
        violations: Some(queue),
    };
    let hook = Webhook::new(
        Arc::new(Views),
        Arc::new(FixedPods(HashMap::from([(
            ("apps".to_string(), "web-1".to_string()),
            example::pod(),
        )]))),
        Arc::new(FixedImages(HashMap::new())),
    )
    .with_deadline(Duration::from_millis(200))
    .with_enforcement(enforcement);
    (hook, rx)
}

fn now() -> u64 {
    ironroot_timestamp::now_unix()
}

fn same(s: String) -> String {
    s
}

fn privileged() -> Value {
    let mut pod = example::pod_json();
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod
}

fn request(namespace: &str, object: Value) -> AdmissionRequest<DynamicObject> {
    serde_json::from_value(request_json(namespace, object)).unwrap()
}

fn request_json(namespace: &str, object: Value) -> Value {
    json!({
        "uid": "uid-7",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "web-1",
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": object,
        "oldObject": null
    })
}

fn events(rx: &mut Receiver<ViolationEvent>) -> Vec<ViolationEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn refusal(res: &AdmissionResponse) -> &str {
    assert!(!res.allowed, "admitted, expected a refusal");
    assert_eq!(res.result.code, 403);
    &res.result.message
}

#[tokio::test]
async fn the_r10_set_admits_a_compliant_pod_without_a_word() {
    let (hook, mut rx) = hook(same, example::facts(now()));
    let res = hook.validate(&request("apps", example::pod_json())).await;
    assert!(res.allowed, "{}", res.result.message);
    assert_eq!(res.warnings, None);
    assert!(events(&mut rx).is_empty());
}

#[tokio::test]
async fn a_privileged_pod_is_refused_in_enforce_mode_naming_the_policies() {
    let (hook, mut rx) = hook(same, example::facts(now()));
    let res = hook.validate(&request("apps", privileged())).await;
    let m = refusal(&res);
    assert!(m.starts_with("refused by ironroot policy: "), "{m}");
    assert!(
        m.contains("no-privileged: container app is privileged"),
        "{m}"
    );
    assert!(m.contains("pod-security-restricted: "), "{m}");
    assert!(m.len() <= MAX_MESSAGE);
    let seen = events(&mut rx);
    let ids: Vec<&str> = seen.iter().map(|e| e.policy.as_str()).collect();
    assert!(ids.contains(&"no-privileged"), "{ids:?}");
    for e in &seen {
        assert_eq!(e.action, ViolationAction::Denied);
        assert_eq!(
            (e.object.namespace.as_str(), e.object.kind.as_str()),
            ("apps", "Pod")
        );
        assert_eq!(e.object.name, "web-1");
    }
    // A dry run is judged the same and reported to nobody.
    let mut dry = request("apps", privileged());
    dry.dry_run = true;
    assert!(!hook.validate(&dry).await.allowed);
    assert!(events(&mut rx).is_empty());
}

#[tokio::test]
async fn in_audit_mode_a_privileged_pod_is_admitted_with_short_warnings() {
    let audit = |s: String| s.replace("mode: enforce", "mode: audit");
    let (hook, mut rx) = hook(audit, example::facts(now()));
    let mut pod = privileged();
    pod["metadata"] = json!({"generateName": "web-", "namespace": "apps"});
    let mut req = request("apps", pod);
    req.name = String::new();
    let res = hook.validate(&req).await;
    assert!(res.allowed, "{}", res.result.message);
    let w = res.warnings.unwrap();
    assert!(!w.is_empty() && w.len() <= MAX_WARNINGS, "{w:?}");
    assert!(w.iter().all(|w| w.len() <= MAX_WARNING), "{w:?}");
    assert!(
        w.iter()
            .any(|w| w.starts_with("policy no-privileged (audit): container app is privileged")),
        "{w:?}"
    );
    let seen = events(&mut rx);
    let e = seen.iter().find(|e| e.policy == "no-privileged").unwrap();
    assert_eq!(e.action, ViolationAction::Admitted);
    assert_eq!(e.object.name, "web-", "generateName stands for the name");
}

#[tokio::test]
async fn an_unknown_fact_refuses_only_under_failure_closed() {
    let mut facts = example::facts(now());
    for image in facts.images.values_mut() {
        image.signature = None;
    }
    // image-signed fails closed in R10.
    let (hook_closed, mut rx) = hook(same, facts.clone());
    let res = hook_closed
        .validate(&request("apps", example::pod_json()))
        .await;
    let m = refusal(&res);
    assert!(
        m.contains("image-signed: undecided: the signature verdict of image"),
        "{m}"
    );
    assert!(!m.contains("no-privileged"), "{m}");
    let seen = events(&mut rx);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].policy.as_str(), seen[0].action),
        ("image-signed", ViolationAction::Denied)
    );

    let open = |s: String| s.replace("failure: closed", "failure: open");
    let (hook_open, mut rx) = hook(open, facts);
    let res = hook_open
        .validate(&request("apps", example::pod_json()))
        .await;
    assert!(res.allowed, "{}", res.result.message);
    let w = res.warnings.unwrap();
    assert!(
        w[0].starts_with("policy image-signed (deny): undecided"),
        "{w:?}"
    );
    assert_eq!(events(&mut rx)[0].action, ViolationAction::Admitted);
}

#[tokio::test]
async fn a_namespace_exclusion_holds() {
    let mut facts = example::facts(now());
    for image in facts.images.values_mut() {
        for l in image.layers.iter_mut().flatten() {
            l.encrypted = false;
            l.key_ids.clear();
        }
    }
    let (hook, _rx) = hook(same, facts);
    let res = hook.validate(&request("apps", example::pod_json())).await;
    assert!(refusal(&res).contains("workload-encrypted: image "));
    let mut pod = example::pod_json();
    pod["metadata"]["namespace"] = json!("kube-tools");
    let res = hook.validate(&request("kube-tools", pod)).await;
    // Still refused by the pipeline policy (no key), never by the excluded one.
    let m = refusal(&res);
    assert!(!m.contains("workload-encrypted"), "{m}");
    assert!(m.contains("pipeline-encryption-policy"), "{m}");
}

#[tokio::test]
async fn a_binding_is_judged_by_the_node_policies_only() {
    let mut facts = example::facts(now());
    facts.node.as_mut().unwrap().pod_pids_limit = Some(100_000);
    let (hook, mut rx) = hook(same, facts);
    let mut pending = example::pod_json();
    pending["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let binding: AdmissionRequest<DynamicObject> = serde_json::from_value(json!({
        "uid": "uid-7",
        "kind": {"group": "", "version": "v1", "kind": "Binding"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "subResource": "binding",
        "name": "web-1",
        "namespace": "apps",
        "operation": "CREATE",
        "userInfo": {"username": "system:kube-scheduler"},
        "object": {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web-1"},
                   "target": {"kind": "Node", "name": "node-1"}},
        "oldObject": null
    }))
    .unwrap();
    let res = hook.validate(&binding).await;
    assert!(res.allowed, "{}", res.result.message);
    let w = res.warnings.unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("policy node-pid-limit (audit): node node-1 allows 100000"));
    let seen = events(&mut rx);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].policy, "node-pid-limit");
}

#[tokio::test]
async fn an_update_is_judged_only_when_it_changes_an_image() {
    let (hook, _rx) = hook(same, example::facts(now()));
    let update = |old: Value, new: Value| {
        let mut r = request_json("apps", new);
        r["operation"] = json!("UPDATE");
        r["oldObject"] = old;
        serde_json::from_value::<AdmissionRequest<DynamicObject>>(r).unwrap()
    };
    // A label on a pod that breaks the policies: not judged again.
    let mut relabelled = privileged();
    relabelled["metadata"]["labels"] = json!({"a": "b"});
    let res = hook.validate(&update(privileged(), relabelled)).await;
    assert!(res.allowed);
    // Its image changed to one from elsewhere: judged.
    let mut swapped = example::pod_json();
    swapped["spec"]["containers"][0]["image"] = json!("docker.io/evil/miner:latest");
    let res = hook.validate(&update(example::pod_json(), swapped)).await;
    assert!(refusal(&res).contains("approved-registries"));
}

#[tokio::test]
async fn a_failed_evaluation_is_undecided_and_each_policy_fails_its_own_way() {
    let set = PolicySet::from_yaml(R10_SET_YAML.as_bytes()).unwrap();
    let active = Active {
        set,
        cluster: "east".into(),
        version: 1,
    };
    let d = undecided(&active, &example::pod(), "apps", now(), "boom");
    let denying: Vec<&str> = d.denials().map(|v| v.id.as_str()).collect();
    assert_eq!(
        denying,
        ["image-signed"],
        "only the fail-closed policy refuses"
    );
    assert!(!d.allowed);
    // The exclusion still holds while undecided.
    let d = undecided(&active, &example::pod(), "kube-tools", now(), "boom");
    let v = d
        .verdicts
        .iter()
        .find(|v| v.id == "workload-encrypted")
        .unwrap();
    assert!(matches!(v.verdict, Verdict::NotApplicable(_)));
}

#[test]
fn judgements_stay_within_their_bounds() {
    assert_eq!(judge::bounded("short", 10), "short");
    let cut = judge::bounded(&"é".repeat(300), MAX_WARNING);
    assert!(cut.len() <= MAX_WARNING && cut.ends_with("..."));
    let mut facts = example::facts(now());
    facts.images.values_mut().for_each(|i| {
        i.signature = Some(SignatureFact::Unsigned);
        i.scan = None;
        i.pipeline_signed = None;
    });
    facts.node = None;
    let set = PolicySet::from_yaml(
        R10_SET_YAML
            .replace("mode: enforce", "mode: audit")
            .as_bytes(),
    )
    .unwrap();
    let mut pod = example::pod();
    pod.spec.as_mut().unwrap().node_name = Some("node-9".into());
    let d = set.evaluate(
        &ironroot_policy::Input {
            pod: &pod,
            namespace: "apps",
            cluster: "east",
            facts: &facts,
        },
        now(),
    );
    let object = ironroot_api::ObjectRef {
        namespace: "apps".into(),
        kind: "Pod".into(),
        name: "web-1".into(),
    };
    let j = judge(&d, &object, 1);
    assert!(j.refusal.is_none());
    assert_eq!(j.warnings.len(), MAX_WARNINGS, "{:?}", j.warnings);
    assert!(j.warnings[MAX_WARNINGS - 1].starts_with("and "));
}

#[tokio::test]
async fn a_privileged_pod_is_refused_over_https_with_the_policy_message() {
    ironroot_tls::install_process_provider();
    let (hook, _rx) = hook(same, example::facts(now()));
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let identity = ironroot_tls::Identity::from_pem(
        cert_pem.as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .unwrap();
    let tls = ironroot_tls::open_server_config(identity).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let server = tokio::spawn(crate::webhook::serve(listener, tls, Arc::new(hook)));
    let client_tls = ironroot_tls::service_client_config(cert_pem.as_bytes(), None).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls)
        .build()
        .unwrap();
    let review = |pod: Value| {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": request_json("apps", pod)})
    };
    let post = |body: Value| {
        let http = http.clone();
        let url = format!("{url}/validate/pods");
        async move {
            let res = http.post(url).json(&body).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()["response"].clone()
        }
    };
    let refused = post(review(privileged())).await;
    assert_eq!(refused["uid"], "uid-7");
    assert_eq!(refused["allowed"], false);
    assert_eq!(refused["status"]["code"], 403);
    let m = refused["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("no-privileged: container app is privileged"),
        "{m}"
    );
    let admitted = post(review(example::pod_json())).await;
    assert_eq!(admitted["allowed"], true, "{admitted}");
    server.abort();
}
