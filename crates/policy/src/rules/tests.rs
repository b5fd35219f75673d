//! One table for every rule: the example pod and facts pass; a change makes a violation;
//! a missing fact makes unknown; an exclusion makes it not applicable until it expires.

use crate::example::{self, IMAGE};
use crate::facts::{Facts, SignatureFact};
use crate::{Input, NotApplicable, PolicySet, Verdict};
use ironroot_api::TrustState;
use ironroot_severity::Severity;
use serde_json::{json, Value};

const NOW: u64 = 1_800_000_000;

type Change = fn(&mut Value, &mut Facts);

struct Case {
    rule: &'static str,
    violate: Change,
    unknown: Option<Change>,
}

fn image(f: &mut Facts) -> &mut crate::ImageFacts {
    f.images.get_mut(IMAGE).unwrap()
}

fn container(p: &mut Value) -> &mut Value {
    &mut p["spec"]["containers"][0]
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: "node-trusted: {}",
            violate: |_, f| f.node.as_mut().unwrap().trust = Some(TrustState::Untrusted),
            unknown: Some(|_, f| f.node = None),
        },
        Case {
            rule: "workload-encrypted: {}",
            violate: |_, f| image(f).layers.as_mut().unwrap()[1].encrypted = false,
            unknown: Some(|_, f| f.keys.clear()),
        },
        Case {
            rule: "pipeline-built-with-encryption-policy: {}",
            violate: |_, f| f.keys.get_mut("key-eu").unwrap().transfer_policy = false,
            unknown: Some(|_, f| image(f).pipeline_signed = None),
        },
        Case {
            rule: "image-signed: { trusted_keys: [release-key] }",
            violate: |_, f| image(f).signature = Some(SignatureFact::Signed { key_id: "someone".into() }),
            unknown: Some(|_, f| image(f).signature = None),
        },
        Case {
            rule: "image-scanned: { threshold: high, max_age: 1h }",
            violate: |_, f| image(f).scan.as_mut().unwrap().scanned_at = NOW - 7200,
            unknown: Some(|_, f| f.images.clear()),
        },
        Case {
            rule: "no-privileged: {}",
            violate: |p, _| container(p)["securityContext"]["privileged"] = json!(true),
            unknown: None,
        },
        Case {
            rule: "run-as-non-root: {}",
            violate: |p, _| container(p)["securityContext"]["runAsUser"] = json!(0),
            unknown: None,
        },
        Case {
            rule: "read-only-root-filesystem: {}",
            violate: |p, _| container(p)["securityContext"]["readOnlyRootFilesystem"] = json!(false),
            unknown: None,
        },
        Case {
            rule: "resource-limits: { cpu: true, memory: true }",
            violate: |p, _| container(p)["resources"] = json!({ "limits": { "cpu": "1" } }),
            unknown: None,
        },
        Case {
            rule: "node-pid-limit: { max: 4096 }",
            violate: |_, f| f.node.as_mut().unwrap().pod_pids_limit = Some(-1),
            unknown: Some(|_, f| f.node.as_mut().unwrap().pod_pids_limit = None),
        },
        Case {
            rule: "approved-registries: { registries: [registry.example.com:5000/apps] }",
            violate: |p, _| container(p)["image"] = json!("docker.io/library/busybox"),
            unknown: None,
        },
        Case {
            rule: "region-placement: {}",
            violate: |_, f| {
                let node = f.node.as_mut().unwrap();
                node.certified_tags.as_mut().unwrap().insert("region".into(), "us".into());
            },
            unknown: Some(|_, f| f.node.as_mut().unwrap().certified_tags = None),
        },
        Case {
            rule: "pod-security: { level: restricted, version: v1.37 }",
            violate: |p, _| p["spec"]["hostPID"] = json!(true),
            unknown: None,
        },
        Case {
            rule: "rego: { query: data.t.deny, module: \"package t\\ndeny contains \\\"host pid\\\" if input.pod.spec.hostPID\" }",
            violate: |p, _| p["spec"]["hostPID"] = json!(true),
            unknown: None,
        },
    ]
}

fn set(rule: &str, exclusion_expires: Option<&str>) -> PolicySet {
    let scope = match exclusion_expires {
        Some(t) => format!("scope: {{ exclusions: [{{ namespace: apps, name: web-*, reason: waiver, expires: \"{t}\" }}] }}"),
        None => String::new(),
    };
    let yaml = format!(
        "version: 1\npolicies:\n  - id: p\n    description: d\n    severity: high\n    mode: enforce\n    \
         remediation: alert\n    {scope}\n    rule: {{ {rule} }}\n"
    );
    PolicySet::from_yaml(yaml.as_bytes()).unwrap_or_else(|e| panic!("{rule}: {e}"))
}

fn verdict(set: &PolicySet, change: Option<Change>) -> Verdict {
    let (mut pod, mut facts) = (example::pod_json(), example::facts(NOW));
    if let Some(change) = change {
        change(&mut pod, &mut facts);
    }
    let pod = serde_json::from_value(pod).unwrap();
    let input = Input {
        pod: &pod,
        namespace: "apps",
        cluster: "eu-1",
        facts: &facts,
    };
    set.evaluate(&input, NOW).verdicts.remove(0).verdict
}

#[test]
fn every_rule_passes_violates_and_knows_when_it_cannot_tell() {
    for case in cases() {
        let s = set(case.rule, None);
        assert_eq!(verdict(&s, None), Verdict::Pass, "{}", case.rule);
        let v = verdict(&s, Some(case.violate));
        let Verdict::Violation(found) = &v else {
            panic!("{}: {v:?}", case.rule)
        };
        assert!(
            found
                .iter()
                .all(|f| !f.message.is_empty() && !f.field.is_empty()),
            "{found:?}"
        );
        if let Some(unknown) = case.unknown {
            let v = verdict(&s, Some(unknown));
            assert!(
                matches!(v, Verdict::Unknown(ref w) if !w.is_empty()),
                "{}: {v:?}",
                case.rule
            );
        }
    }
}

#[test]
fn every_rule_is_silenced_by_an_exclusion_until_it_expires() {
    for case in cases() {
        let live = set(case.rule, Some("2030-01-01T00:00:00Z"));
        let v = verdict(&live, Some(case.violate));
        assert!(
            matches!(
                v,
                Verdict::NotApplicable(NotApplicable::Excluded { index: 0, .. })
            ),
            "{}: {v:?}",
            case.rule
        );
        let expired = set(case.rule, Some("2020-01-01T00:00:00Z"));
        let v = verdict(&expired, Some(case.violate));
        assert!(matches!(v, Verdict::Violation(_)), "{}: {v:?}", case.rule);
    }
}

#[test]
fn the_r10_set_admits_the_example_pod_and_denies_a_privileged_one() {
    let set = PolicySet::from_yaml(example::R10_SET_YAML.as_bytes()).unwrap();
    assert_eq!(set.policies().len(), 14);
    let facts = example::facts(NOW);
    let pod = example::pod();
    let input = Input {
        pod: &pod,
        namespace: "apps",
        cluster: "eu-1",
        facts: &facts,
    };
    let d = set.evaluate(&input, NOW);
    assert!(d.allowed, "{:#?}", d.verdicts);
    assert!(
        d.verdicts.iter().all(|v| v.verdict == Verdict::Pass),
        "{:#?}",
        d.verdicts
    );

    let mut bad = example::pod_json();
    container(&mut bad)["securityContext"]["privileged"] = json!(true);
    let pod = serde_json::from_value(bad).unwrap();
    let d = set.evaluate(&Input { pod: &pod, ..input }, NOW);
    assert!(!d.allowed);
    let denied: Vec<&str> = d.denials().map(|v| v.id.as_str()).collect();
    assert_eq!(denied, ["no-privileged", "pod-security-restricted"]);
}

#[test]
fn audit_mode_never_denies_and_unknown_denies_only_when_failing_closed() {
    let yaml = |mode: &str, failure: &str| {
        format!(
            "version: 1\npolicies:\n  - {{ id: p, description: d, severity: high, mode: {mode}, \
             remediation: deny, failure: {failure}, rule: {{ image-signed: {{ trusted_keys: [k] }} }} }}\n"
        )
    };
    let pod = example::pod();
    let facts = Facts::default();
    let input = Input {
        pod: &pod,
        namespace: "apps",
        cluster: "c",
        facts: &facts,
    };
    let allowed = |m, f| {
        PolicySet::from_yaml(yaml(m, f).as_bytes())
            .unwrap()
            .evaluate(&input, NOW)
            .allowed
    };
    assert!(allowed("enforce", "open"));
    assert!(!allowed("enforce", "closed"));
    assert!(allowed("audit", "closed"));
}

#[test]
fn scope_selects_clusters_and_namespaces() {
    let yaml = "version: 1\npolicies:\n  - { id: p, description: d, severity: low, mode: enforce, remediation: deny, \
                scope: { clusters: [eu-*], namespaces: [apps] }, rule: { no-privileged: {} } }\n";
    let set = PolicySet::from_yaml(yaml.as_bytes()).unwrap();
    let (pod, facts) = (example::pod(), Facts::default());
    let at = |cluster, namespace| {
        set.evaluate(
            &Input {
                pod: &pod,
                namespace,
                cluster,
                facts: &facts,
            },
            NOW,
        )
        .verdicts[0]
            .verdict
            .clone()
    };
    assert_eq!(at("eu-1", "apps"), Verdict::Pass);
    assert_eq!(
        at("us-1", "apps"),
        Verdict::NotApplicable(NotApplicable::ClusterOutOfScope)
    );
    assert_eq!(
        at("eu-1", "other"),
        Verdict::NotApplicable(NotApplicable::NamespaceOutOfScope)
    );
}

#[test]
fn a_severity_at_the_threshold_violates() {
    let s = set("image-scanned: { threshold: high, max_age: 1d }", None);
    let v = verdict(
        &s,
        Some(|_, f| image(f).scan.as_mut().unwrap().highest_unfixed = Some(Severity::High)),
    );
    assert!(matches!(v, Verdict::Violation(_)), "{v:?}");
}

/// `kubectl debug --profile=restricted`'s ephemeral container, with the example's image.
fn debug(p: &mut Value) -> &mut Value {
    p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": IMAGE, "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true}}]);
    &mut p["spec"]["ephemeralContainers"][0]
}

/// The debug container on an image of its own, known as the example's is; its facts.
fn debug_image<'a>(p: &mut Value, f: &'a mut Facts) -> &'a mut crate::ImageFacts {
    let other = IMAGE.replace("/web@", "/debug@");
    debug(p)["image"] = json!(other);
    let known = image(f).clone();
    f.images.entry(other).or_insert(known)
}

/// Ephemeral containers are judged wherever the Pod Security Standards visit them (every
/// container-level rule but resource limits, which the API refuses to set on them).
#[test]
fn every_container_rule_judges_an_ephemeral_container_as_the_standards_do() {
    let cases: [(&str, Change); 11] = [
        ("no-privileged: {}", |p, _| {
            debug(p)["securityContext"]["privileged"] = json!(true)
        }),
        ("run-as-non-root: {}", |p, _| {
            debug(p)["securityContext"]["runAsUser"] = json!(0)
        }),
        ("read-only-root-filesystem: {}", |p, _| {
            debug(p)["securityContext"] = json!({})
        }),
        (
            "approved-registries: { registries: [\"registry.example.com:5000/apps\"] }",
            |p, _| debug(p)["image"] = json!("docker.io/library/busybox:1.36"),
        ),
        ("image-signed: { trusted_keys: [release-key] }", |p, f| {
            debug_image(p, f).signature = Some(SignatureFact::Unsigned)
        }),
        ("image-scanned: { threshold: high, max_age: 1d }", |p, f| {
            debug_image(p, f).scan.as_mut().unwrap().highest_unfixed = Some(Severity::Critical)
        }),
        ("workload-encrypted: {}", |p, f| {
            debug_image(p, f).layers.as_mut().unwrap()[0].encrypted = false
        }),
        (
            "pod-security: { level: baseline, version: latest }",
            |p, _| debug(p)["securityContext"]["privileged"] = json!(true),
        ),
        (
            "pod-security: { level: baseline, version: latest }",
            |p, _| debug(p)["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"]),
        ),
        (
            "pod-security: { level: restricted, version: latest }",
            |p, _| debug(p)["securityContext"]["runAsNonRoot"] = json!(false),
        ),
        (
            "pod-security: { level: restricted, version: latest }",
            |p, _| debug(p)["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"}),
        ),
    ];
    for (rule, violate) in cases {
        let s = set(rule, None);
        assert_eq!(
            verdict(&s, Some(|p, _| _ = debug(p))),
            Verdict::Pass,
            "{rule}"
        );
        let v = verdict(&s, Some(violate));
        let Verdict::Violation(found) = &v else {
            panic!("{rule}: {v:?}")
        };
        for f in found {
            assert_eq!(f.container.as_deref(), Some("debug"), "{rule}: {f:?}");
            assert!(
                f.field.starts_with("spec.ephemeralContainers[debug]."),
                "{rule}: {f:?}"
            );
        }
    }
    // The API server refuses resources on an ephemeral container: none is asked of it.
    let s = set("resource-limits: { cpu: true, memory: true }", None);
    assert_eq!(verdict(&s, Some(|p, _| _ = debug(p))), Verdict::Pass);
}
