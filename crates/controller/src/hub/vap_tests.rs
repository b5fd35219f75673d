use super::*;
use ironroot_policy::PolicySet;

const SET: &str = r#"version: 1
policies:
  - id: no-privileged
    description: d
    severity: critical
    mode: enforce
    remediation: deny
    failure: closed
    scope:
      namespaces: [apps, "team-*"]
      exclusions:
        - { namespace: team-legacy, name: "old-*", reason: migration, expires: "2099-01-01T00:00:00Z" }
        - { namespace: apps, reason: expired, expires: "2001-01-01T00:00:00Z" }
    rule: { no-privileged: {} }
  - id: read-only-root
    description: d
    severity: medium
    mode: audit
    remediation: alert
    rule: { read-only-root-filesystem: {} }
  - id: limits
    description: d
    severity: low
    mode: enforce
    remediation: deny
    rule: { resource-limits: { cpu: false } }
  - id: registries
    description: d
    severity: high
    mode: enforce
    remediation: deny
    scope: { clusters: [west] }
    rule: { approved-registries: { registries: [ghcr.io/acme] } }
  - id: node
    description: d
    severity: high
    mode: enforce
    remediation: taint
    rule: { node-trusted: {} }
"#;

fn active() -> Active {
    Active {
        set: PolicySet::from_yaml(SET.as_bytes()).unwrap(),
        cluster: "east".into(),
        version: 1,
    }
}

#[test]
fn only_fact_free_built_ins_in_this_clusters_scope_get_objects() {
    let d = desired(
        &active(),
        &["kube-system".into(), "ironroot-system".into()],
        1_700_000_000,
    );
    let names: Vec<&str> = d.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ironroot-limits",
            "ironroot-no-privileged",
            "ironroot-read-only-root"
        ]
    );
}

#[test]
fn enforce_deny_binds_with_deny_and_the_rest_audits_and_warns() {
    let d = desired(&active(), &["kube-system".into()], 1_700_000_000);
    let (policy, binding) = &d["ironroot-no-privileged"];
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    assert_eq!(binding["spec"]["policyName"], "ironroot-no-privileged");
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    assert_eq!(
        binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["kube-system"])
    );
    let (ro, ro_binding) = &d["ironroot-read-only-root"];
    assert_eq!(
        ro_binding["spec"]["validationActions"],
        json!(["Audit", "Warn"])
    );
    assert_eq!(ro["spec"]["failurePolicy"], "Ignore");
    let (limits, _) = &d["ironroot-limits"];
    let v = limits["spec"]["validations"].as_array().unwrap();
    assert_eq!(v.len(), 1, "cpu: false leaves memory only");
    assert!(v[0]["expression"]
        .as_str()
        .unwrap()
        .contains("'memory' in dyn(c.resources)"));
}

#[test]
fn namespaces_and_unexpired_exclusions_become_match_conditions() {
    let d = desired(&active(), &[], 1_700_000_000);
    let cond = d["ironroot-no-privileged"].0["spec"]["matchConditions"][0]["expression"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cond.starts_with(
            "(request.namespace.matches('^apps$') || request.namespace.matches('^team-.*$'))"
        ),
        "{cond}"
    );
    assert!(
        cond.contains("!(request.namespace.matches('^team-legacy$') && "),
        "{cond}"
    );
    assert!(cond.contains(".matches('^old-.*$'))"), "{cond}");
    assert!(
        !cond.contains("'^apps$') &&"),
        "the expired exclusion is gone: {cond}"
    );
    let all = d["ironroot-read-only-root"].0["spec"]["matchConditions"][0]["expression"].clone();
    assert_eq!(all, "true");
}
