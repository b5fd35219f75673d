#![allow(clippy::unwrap_used)]
use super::*;
use crate::view::NodeView;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn key(name: &str, pairs: &[(&str, &str)]) -> KeyNeeds {
    KeyNeeds {
        key: name.into(),
        tags: tags(pairs),
    }
}

fn eu_needs() -> PodNeeds {
    PodNeeds::combine(&[(
        "reg/app:1".into(),
        ImageNeeds::Encrypted(vec![key("eu-app", &[("region", "EU")])]),
    )])
    .unwrap()
}

fn pod(v: Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

/// The pod after `patch`, as the API server would apply it.
fn patched(p: &Pod, needs: &PodNeeds) -> Pod {
    let patch = placement_patch(p, needs).unwrap().unwrap();
    let mut doc = serde_json::to_value(p).unwrap();
    json_patch::patch(&mut doc, &patch).unwrap();
    serde_json::from_value(doc).unwrap()
}

fn terms(p: &Pod) -> Value {
    let a = serde_json::to_value(p.spec.as_ref().unwrap().affinity.as_ref().unwrap()).unwrap();
    a["nodeAffinity"][REQUIRED]["nodeSelectorTerms"].clone()
}

fn eu_exprs() -> Value {
    json!([
        {"key": TRUST_LABEL, "operator": "In", "values": ["trusted"]},
        {"key": "tag.ironroot.node-restriction.kubernetes.io/region", "operator": "In", "values": ["EU"]}
    ])
}

fn node(trust: TrustState, pairs: &[(&str, &str)], reason: &str) -> NodeView {
    NodeView {
        trust,
        tags: tags(pairs),
        host_id: Some("h1".into()),
        reason: reason.into(),
        pod_pids_limit: None,
    }
}

fn toleration(
    key: Option<&str>,
    op: Option<&str>,
    value: Option<&str>,
    effect: Option<&str>,
) -> Toleration {
    Toleration {
        key: key.map(Into::into),
        operator: op.map(Into::into),
        value: value.map(Into::into),
        effect: effect.map(Into::into),
        toleration_seconds: None,
    }
}

#[test]
fn needs_are_the_union_of_the_images_keys() {
    let n = PodNeeds::combine(&[
        (
            "a".into(),
            ImageNeeds::Encrypted(vec![key("k1", &[("region", "EU")])]),
        ),
        ("b".into(), ImageNeeds::Plain),
        (
            "c".into(),
            ImageNeeds::Encrypted(vec![
                key("k2", &[("region", "EU"), ("tier", "gold")]),
                key("k3", &[]),
            ]),
        ),
        ("d".into(), ImageNeeds::Unresolved("registry down".into())),
    ])
    .unwrap();
    assert_eq!(n.encrypted, vec!["a", "c"]);
    assert_eq!(n.tags, tags(&[("region", "EU"), ("tier", "gold")]));
    assert_eq!(
        n.unresolved,
        vec![("d".to_string(), "registry down".to_string())]
    );
    let w = n.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("image d") && w[0].contains("registry down"),
        "{w:?}"
    );
    assert!(PodNeeds::combine(&[]).unwrap().encrypted.is_empty());
}

#[test]
fn conflicting_tags_refuse_the_pod_naming_both_images() {
    let e = PodNeeds::combine(&[
        (
            "eu/app".into(),
            ImageNeeds::Encrypted(vec![key("eu-key", &[("region", "EU")])]),
        ),
        (
            "us/app".into(),
            ImageNeeds::Encrypted(vec![key("us-key", &[("region", "US")])]),
        ),
    ])
    .unwrap_err();
    assert!(
        e.contains("image eu/app (key eu-key)") && e.contains("region=EU"),
        "{e}"
    );
    assert!(
        e.contains("image us/app (key us-key)") && e.contains("region=US"),
        "{e}"
    );
    assert!(e.contains("no node can run this pod"), "{e}");
}

#[test]
fn images_are_init_app_and_ephemeral_containers_once() {
    let p = pod(json!({"spec": {
        "initContainers": [{"name": "i", "image": "init:1"}],
        "containers": [{"name": "a", "image": "app:1"}, {"name": "b", "image": "init:1"}, {"name": "c"}],
        "ephemeralContainers": [{"name": "e", "image": "debug:1"}, {"name": "f", "image": "app:1"}]
    }}));
    assert_eq!(pod_images(&p), vec!["init:1", "app:1", "debug:1"]);
    assert!(pod_images(&Pod::default()).is_empty());
}

#[test]
fn a_pod_without_encrypted_images_is_not_changed() {
    let p = pod(json!({"spec": {"containers": [{"name": "a", "image": "app:1"}]}}));
    let plain = PodNeeds::combine(&[("app:1".into(), ImageNeeds::Plain)]).unwrap();
    assert_eq!(placement_patch(&p, &plain).unwrap(), None);
    let unresolved =
        PodNeeds::combine(&[("app:1".into(), ImageNeeds::Unresolved("x".into()))]).unwrap();
    assert_eq!(placement_patch(&p, &unresolved).unwrap(), None);
}

#[test]
fn an_encrypted_image_gets_required_affinity_and_the_annotation() {
    let p = pod(
        json!({"metadata": {"name": "w"}, "spec": {"containers": [{"name": "a", "image": "reg/app:1"}]}}),
    );
    let after = patched(&p, &eu_needs());
    assert_eq!(terms(&after), json!([{ "matchExpressions": eu_exprs() }]));
    let ann = after.metadata.annotations.unwrap();
    assert_eq!(ann[REQUIRED_TAGS_ANNOTATION], r#"{"region":"EU"}"#);
}

#[test]
fn any_trusted_node_keys_need_trust_only() {
    let p = pod(json!({"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": []}}));
    let needs =
        PodNeeds::combine(&[("x".into(), ImageNeeds::Encrypted(vec![key("any", &[])]))]).unwrap();
    let after = patched(&p, &needs);
    assert_eq!(
        terms(&after),
        json!([{ "matchExpressions": [{"key": TRUST_LABEL, "operator": "In", "values": ["trusted"]}] }])
    );
    let ann = after.metadata.annotations.unwrap();
    assert_eq!(
        (ann["a"].as_str(), ann[REQUIRED_TAGS_ANNOTATION].as_str()),
        ("b", "{}")
    );
}

#[test]
fn existing_affinity_without_node_affinity_keeps_its_pod_affinity() {
    let p = pod(json!({"spec": {"containers": [], "affinity": {"podAffinity": {}}}}));
    let after = patched(&p, &eu_needs());
    assert_eq!(terms(&after), json!([{ "matchExpressions": eu_exprs() }]));
    assert!(after.spec.unwrap().affinity.unwrap().pod_affinity.is_some());
    let p = pod(
        json!({"spec": {"containers": [], "affinity": {"nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "z", "operator": "Exists"}]}}]
        }}}}),
    );
    let after = patched(&p, &eu_needs());
    assert_eq!(terms(&after), json!([{ "matchExpressions": eu_exprs() }]));
    let na = after.spec.unwrap().affinity.unwrap().node_affinity.unwrap();
    assert!(na
        .preferred_during_scheduling_ignored_during_execution
        .is_some());
}

#[test]
fn requirements_are_anded_into_every_existing_term_but_not_an_empty_one() {
    let p = pod(
        json!({"spec": {"containers": [], "affinity": {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]},
            {}
        ]}}}}}),
    );
    let after = patched(&p, &eu_needs());
    let mut first = vec![json!({"key": "zone", "operator": "In", "values": ["a"]})];
    first.extend(eu_exprs().as_array().unwrap().iter().cloned());
    assert_eq!(
        terms(&after),
        json!([
            {"matchExpressions": first},
            {"matchExpressions": eu_exprs(), "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]},
            {}
        ])
    );
    // A second invocation adds nothing more.
    let again = patched(&after, &eu_needs());
    assert_eq!(terms(&again), terms(&after));
}

#[test]
fn tags_that_cannot_be_labels_refuse_the_pod() {
    let p = pod(json!({"spec": {"containers": []}}));
    for (k, v, word) in [
        ("bad key/x", "EU", "label name"),
        ("region", "EU West", "label value"),
    ] {
        let needs =
            PodNeeds::combine(&[("x".into(), ImageNeeds::Encrypted(vec![key("k", &[(k, v)])]))])
                .unwrap();
        let e = placement_patch(&p, &needs).unwrap_err();
        assert!(e.contains(word) && e.contains(k), "{e}");
    }
}

#[test]
fn tolerations_follow_the_scheduler_rule() {
    let t = |key, op, value, effect| vec![toleration(key, op, value, effect)];
    assert!(tolerates_untrusted(
        &t(None, Some("Exists"), None, None),
        "untrusted"
    ));
    assert!(tolerates_untrusted(
        &t(Some(TAINT_KEY), Some("Exists"), None, Some("NoSchedule")),
        "unknown"
    ));
    assert!(tolerates_untrusted(
        &t(Some(TAINT_KEY), None, Some("expired"), None),
        "expired"
    ));
    assert!(tolerates_untrusted(
        &t(Some(TAINT_KEY), Some("Equal"), Some("expired"), Some("")),
        "expired"
    ));
    assert!(!tolerates_untrusted(
        &t(Some(TAINT_KEY), Some("Equal"), Some("expired"), None),
        "untrusted"
    ));
    assert!(!tolerates_untrusted(
        &t(Some(TAINT_KEY), Some("Exists"), None, Some("NoExecute")),
        "untrusted"
    ));
    assert!(!tolerates_untrusted(
        &t(Some("other"), Some("Exists"), None, None),
        "untrusted"
    ));
    assert!(!tolerates_untrusted(
        &t(None, Some("Equal"), None, None),
        "untrusted"
    ));
    assert!(!tolerates_untrusted(
        &t(Some(TAINT_KEY), Some("Gt"), None, None),
        "untrusted"
    ));
    assert!(!tolerates_untrusted(&[], "untrusted"));
}

#[test]
fn only_trusted_nodes_or_tolerating_pods_pass_the_trust_rule() {
    assert_eq!(
        untrusted_refusal("n1", &node(TrustState::Trusted, &[], ""), &[]),
        None
    );
    for (state, reason) in [
        (TrustState::Untrusted, "PCR 10 changed"),
        (TrustState::Expired, "no attestation since 10:00"),
        (TrustState::Unknown, "no host is bound to this Node"),
    ] {
        let e = untrusted_refusal("n1", &node(state, &[], reason), &[]).unwrap();
        assert!(
            e.contains("node n1 is ") && e.contains(state.as_str()) && e.contains(reason),
            "{e}"
        );
        let tolerating = [toleration(
            Some(TAINT_KEY),
            Some("Exists"),
            None,
            Some("NoSchedule"),
        )];
        assert_eq!(
            untrusted_refusal("n1", &node(state, &[], reason), &tolerating),
            None
        );
    }
    let unknown = NodeView::unknown("");
    let e = untrusted_refusal("n9", &unknown, &[]).unwrap();
    assert!(e.starts_with("node n9 is unknown:"), "{e}");
}

#[test]
fn encrypted_images_need_a_trusted_node_with_every_tag() {
    let eu = eu_needs();
    assert_eq!(
        tag_refusal(
            "n1",
            &node(TrustState::Trusted, &[("region", "EU"), ("x", "y")], ""),
            &eu
        ),
        None
    );
    let e = tag_refusal(
        "n2",
        &node(TrustState::Trusted, &[("region", "US")], ""),
        &eu,
    )
    .unwrap();
    assert!(
        e.contains("node n2 lacks the asset tag region=EU (it has region=US)")
            && e.contains("reg/app:1"),
        "{e}"
    );
    let e = tag_refusal("n3", &node(TrustState::Trusted, &[], ""), &eu).unwrap();
    assert!(
        e.contains("node n3 lacks the asset tag region=EU that"),
        "{e}"
    );
    // Tolerating the taint does not bring the key to an untrusted node.
    let e = tag_refusal(
        "n4",
        &node(TrustState::Untrusted, &[("region", "EU")], "tampered"),
        &eu,
    )
    .unwrap();
    assert!(
        e.contains("node n4 is untrusted (tampered)") && e.contains("only on trusted nodes"),
        "{e}"
    );
    assert_eq!(
        tag_refusal(
            "n4",
            &node(TrustState::Untrusted, &[], ""),
            &PodNeeds::default()
        ),
        None
    );
}
