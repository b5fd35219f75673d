use super::*;
use ironroot_policy::{Facts, Input};
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

pub const SET: &str = r#"version: 1
policies:
  - id: no-privileged
    description: d
    severity: critical
    mode: enforce
    remediation: deny
    rule: { no-privileged: {} }
  - id: read-only-root
    description: d
    severity: medium
    mode: audit
    remediation: alert
    rule: { read-only-root-filesystem: {} }
  - id: signed
    description: d
    severity: high
    mode: enforce
    remediation: deny
    scope: { namespaces: [apps] }
    rule: { image-signed: { trusted_keys: [k] } }
"#;

pub fn pod(name: &str, privileged: bool, read_only: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "containers": [{
            "name": "c", "image": format!("registry.local:5000/app@sha256:{}", "0".repeat(64)),
            "securityContext": { "privileged": privileged, "readOnlyRootFilesystem": read_only }
        }]}
    }))
    .unwrap()
}

fn judge(audit: &mut Audit, set: &PolicySet, ns: &str, p: &Pod) {
    let facts = Facts::default();
    let input = Input {
        pod: p,
        namespace: ns,
        cluster: "east",
        facts: &facts,
    };
    let d = set.evaluate(&input, 1);
    audit.add(ns, p.metadata.name.as_deref().unwrap(), &d);
}

#[test]
fn policies_and_namespaces_are_summarised_worst_first() {
    let set = PolicySet::from_yaml(SET.as_bytes()).unwrap();
    let mut a = Audit::new(&set);
    judge(&mut a, &set, "apps", &pod("good", false, true));
    judge(&mut a, &set, "apps", &pod("bad", true, false));
    judge(&mut a, &set, "web", &pod("ok", false, true));
    let out = a.finish();

    let line = |id: &str| {
        out.policies
            .iter()
            .find(|p| p.policy == id)
            .unwrap()
            .clone()
    };
    let np = line("no-privileged");
    assert_eq!(
        (np.status, np.checked, np.violations, np.unknown),
        (ComplianceStatus::NonCompliant, 3, 1, 0)
    );
    assert_eq!(np.samples[0].object.name, "bad");
    let ro = line("read-only-root");
    assert_eq!(
        (ro.status, ro.violations),
        (ComplianceStatus::NonCompliant, 1)
    );
    // No signature facts: unknown, only in its scope (apps).
    let s = line("signed");
    assert_eq!(
        (s.status, s.checked, s.unknown),
        (ComplianceStatus::Unknown, 2, 2)
    );

    let apps = &out.namespaces["apps"];
    assert_eq!(
        apps.summary,
        Summary {
            pass: 2,
            fail: 1,
            warn: 1,
            error: 2,
            skip: 0
        }
    );
    assert_eq!(apps.results[0].outcome, Outcome::Fail);
    assert_eq!(apps.results[0].pods, vec!["bad".to_owned()]);
    assert_eq!(apps.results[1].outcome, Outcome::Warn);
    let web = &out.namespaces["web"];
    assert_eq!(
        web.summary,
        Summary {
            pass: 2,
            ..Summary::default()
        }
    );
    assert_eq!(out.found.len(), 2);
}

#[test]
fn a_namespace_report_is_bounded_whatever_the_pods() {
    let set = PolicySet::from_yaml(SET.as_bytes()).unwrap();
    let mut a = Audit::new(&set);
    for i in 0..500 {
        judge(&mut a, &set, "apps", &pod(&format!("p{i}"), true, false));
    }
    let out = a.finish();
    let apps = &out.namespaces["apps"];
    assert_eq!(apps.summary.fail, 500);
    assert!(apps.results.len() <= MAX_SAMPLES);
    assert_eq!(apps.results[0].count, 500);
    assert_eq!(apps.results[0].pods.len(), MAX_RESOURCES_PER_RESULT);
    assert_eq!(out.policies[0].samples.len(), MAX_SAMPLES);
    assert_eq!(out.policies[0].violations, 500);
}

#[test]
fn an_empty_set_reports_nothing_and_every_policy_starts_compliant() {
    let set = PolicySet::from_yaml(SET.as_bytes()).unwrap();
    let out = Audit::new(&set).finish();
    assert!(out.namespaces.is_empty());
    assert!(out
        .policies
        .iter()
        .all(|p| p.status == ComplianceStatus::Compliant && p.checked == 0));
}
