use super::*;

const NOW: u64 = 1_800_000_000;

fn bound(trust: TrustState) -> NodeTrust {
    NodeTrust {
        host_id: "h-1".into(),
        hostname: "node-1".into(),
        hardware_uuid: "6A0E1F2C-0000-4000-8000-000000000001".into(),
        node: "worker-1".into(),
        trust,
        trust_expires_at: Some(NOW + 60),
        asset_tags: [("region".to_string(), "EU".to_string())].into(),
        report_id: Some("r-1".into()),
        report_jws: Some("eyJhbGciOiJFUzI1NiJ9.e30.sig".into()),
        report_expires: Some(NOW + 60),
        failures: vec![],
        pod_pids_limit: Some(4096),
    }
}

fn facts(b: Option<&NodeTrust>) -> Facts<'_> {
    Facts {
        bound: b,
        system_uuid: Some("6a0e1f2c-0000-4000-8000-000000000001"),
        service_current: true,
        now: NOW,
    }
}

fn labels(p: &Value) -> &Map<String, Value> {
    p["metadata"]["labels"].as_object().unwrap()
}

#[test]
fn a_trusted_bound_node_gets_its_trust_tags_and_report_and_no_taint() {
    let b = bound(TrustState::Trusted);
    let d = decide(facts(Some(&b)));
    assert_eq!(d.view.trust, TrustState::Trusted);
    assert_eq!(
        d.view.pod_pids_limit,
        Some(4096),
        "for the webhook's policies"
    );
    let p = patch(&Observed::default(), &d, TaintEffect::NoSchedule).unwrap();
    assert_eq!(labels(&p)[TRUST_LABEL], "trusted");
    assert_eq!(
        labels(&p)["tag.ironroot.node-restriction.kubernetes.io/region"],
        "EU"
    );
    assert_eq!(
        p["metadata"]["annotations"][REPORT_ANNOTATION],
        "eyJhbGciOiJFUzI1NiJ9.e30.sig"
    );
    assert_eq!(
        p["metadata"]["annotations"][REPORT_EXPIRES_ANNOTATION],
        ironroot_timestamp::rfc3339::format(NOW + 60)
    );
    assert!(
        p.get("spec").is_none(),
        "a trusted node with no taint needs none: {p}"
    );
}

#[test]
fn a_node_already_saying_it_needs_no_patch() {
    let b = bound(TrustState::Untrusted);
    let d = decide(facts(Some(&b)));
    let first = patch(&Observed::default(), &d, TaintEffect::NoSchedule).unwrap();
    // Apply the patch to an empty Node by hand, as the API server would.
    let mut obs = Observed::default();
    for (k, v) in labels(&first) {
        obs.labels.insert(k.clone(), v.as_str().unwrap().into());
    }
    for (k, v) in first["metadata"]["annotations"].as_object().unwrap() {
        obs.annotations
            .insert(k.clone(), v.as_str().unwrap().into());
    }
    obs.taints = first["spec"]["taints"].as_array().unwrap().clone();
    assert_eq!(patch(&obs, &d, TaintEffect::NoSchedule), None);
}

#[test]
fn every_state_but_trusted_is_tainted_and_only_untrusted_may_execute() {
    for (state, effect) in [
        (TrustState::Untrusted, "NoExecute"),
        (TrustState::Expired, "NoSchedule"),
        (TrustState::Unknown, "NoSchedule"),
    ] {
        let b = bound(state);
        let p = patch(
            &Observed::default(),
            &decide(facts(Some(&b))),
            TaintEffect::NoExecute,
        )
        .unwrap();
        let t = &p["spec"]["taints"][0];
        assert_eq!(t["key"], TAINT_KEY);
        assert_eq!(t["value"], state.as_str());
        assert_eq!(t["effect"], effect, "{state}");
    }
}

#[test]
fn a_trusted_verdict_past_its_deadline_reads_expired() {
    let mut b = bound(TrustState::Trusted);
    b.trust_expires_at = Some(NOW);
    assert_eq!(decide(facts(Some(&b))).view.trust, TrustState::Expired);
    b.trust_expires_at = None;
    assert_eq!(decide(facts(Some(&b))).view.trust, TrustState::Expired);
}

#[test]
fn an_unbound_node_is_unknown_whatever_it_is_called() {
    let d = decide(facts(None));
    assert_eq!(d.view.trust, TrustState::Unknown);
    assert!(d.view.tags.is_empty() && d.report.is_none());
    assert!(d.view.reason.contains("ironroot host bind"));
}

#[test]
fn a_binding_to_another_machine_is_not_trusted() {
    let b = bound(TrustState::Trusted);
    let mut f = facts(Some(&b));
    f.system_uuid = Some("11111111-2222-4333-8444-555555555555");
    let d = decide(f);
    assert_eq!(d.view.trust, TrustState::Unknown);
    assert!(d.view.reason.contains("systemUUID"), "{}", d.view.reason);
    // An empty systemUUID (some fake nodes report none) is not a mismatch.
    f.system_uuid = Some("");
    assert_eq!(decide(f).view.trust, TrustState::Trusted);
}

#[test]
fn an_unreachable_service_makes_unknown_but_keeps_tags_and_report() {
    let b = bound(TrustState::Trusted);
    let mut f = facts(Some(&b));
    f.service_current = false;
    let d = decide(f);
    assert_eq!(d.view.trust, TrustState::Unknown);
    assert_eq!(d.view.tags.get("region").map(String::as_str), Some("EU"));
    assert!(d.report.is_some());
}

#[test]
fn revoked_tags_and_foreign_taints_are_handled() {
    let mut b = bound(TrustState::Trusted);
    b.asset_tags.clear();
    let mut obs = Observed {
        resource_version: Some("42".into()),
        ..Observed::default()
    };
    obs.labels.insert(TRUST_LABEL.into(), "untrusted".into());
    obs.labels.insert(
        "tag.ironroot.node-restriction.kubernetes.io/region".into(),
        "EU".into(),
    );
    obs.labels
        .insert("kubernetes.io/hostname".into(), "worker-1".into());
    obs.taints = vec![
        json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}),
        json!({"key": TAINT_KEY, "value": "untrusted", "effect": "NoSchedule"}),
    ];
    let p = patch(&obs, &decide(facts(Some(&b))), TaintEffect::NoSchedule).unwrap();
    assert_eq!(p["metadata"]["resourceVersion"], "42");
    assert_eq!(labels(&p)[TRUST_LABEL], "trusted");
    assert_eq!(
        labels(&p)["tag.ironroot.node-restriction.kubernetes.io/region"],
        Value::Null
    );
    assert!(!labels(&p).contains_key("kubernetes.io/hostname"));
    assert_eq!(
        p["spec"]["taints"],
        json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}])
    );
}

#[test]
fn tags_that_cannot_be_labels_are_not_published() {
    let mut b = bound(TrustState::Trusted);
    b.asset_tags.insert("bad key".into(), "x".into());
    b.asset_tags.insert("zone".into(), "not a value!".into());
    let d = decide(facts(Some(&b)));
    assert_eq!(d.view.tags.len(), 1);
}

#[test]
fn a_long_reason_is_cut_on_a_character_boundary() {
    let mut b = bound(TrustState::Untrusted);
    b.failures = vec!["é".repeat(600)];
    let p = patch(
        &Observed::default(),
        &decide(facts(Some(&b))),
        TaintEffect::NoSchedule,
    )
    .unwrap();
    let r = p["metadata"]["annotations"][REASON_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(r.len() <= MAX_REASON + '…'.len_utf8() && r.ends_with('…'));
}
