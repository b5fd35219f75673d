//! Loader errors: each names the policy and the field, and nothing invalid loads.

use super::*;
use crate::params::duration;

fn policy(fields: &str) -> String {
    format!(
        "version: 1\npolicies:\n  - {{ id: p1, description: d, severity: high, mode: enforce, remediation: deny, {fields} }}\n"
    )
}

fn err(yaml: &str) -> LoadError {
    match from_yaml(yaml.as_bytes()) {
        Ok(_) => panic!("loaded: {yaml}"),
        Err(e) => e,
    }
}

fn field_of(e: &LoadError) -> (&str, &str) {
    match e {
        LoadError::Invalid { policy, field, .. } => (policy, field),
        other => panic!("{other}"),
    }
}

#[test]
fn a_valid_set_loads_from_yaml_and_json() {
    let yaml = policy("rule: { no-privileged: {} }");
    let set = from_yaml(yaml.as_bytes()).unwrap();
    assert_eq!(set.version, 1);
    assert_eq!(set.policies[0].failure, crate::Failure::Open);
    let json = r#"{"version": 2, "policies": [{"id": "p1", "description": "d", "severity": "low",
        "mode": "audit", "remediation": "alert", "rule": {"read-only-root-filesystem": {}}}]}"#;
    assert_eq!(from_json(json.as_bytes()).unwrap().policies.len(), 1);
}

#[test]
fn unknown_fields_are_errors_naming_the_policy() {
    let e = err(&policy("rule: { no-privileged: {} }, colour: red"));
    assert_eq!(field_of(&e).0, "p1");
    assert!(e.to_string().contains("colour"), "{e}");
    let e = err(&policy(
        "rule: { image-signed: { trusted_keys: [k], keys: [k] } }",
    ));
    assert!(e.to_string().contains("keys"), "{e}");
    let e = err(&policy("rule: { no-such-rule: {} }"));
    assert!(e.to_string().contains("no-such-rule"), "{e}");
    assert!(matches!(
        err("version: 1\npolicies: []\nextra: 1\n"),
        LoadError::Syntax { .. }
    ));
}

#[test]
fn each_invalid_field_is_named() {
    let cases = [
        ("rule: { no-privileged: {} }, scope: { namespaces: [] }", "scope.namespaces"),
        ("rule: { no-privileged: {} }, scope: { clusters: [Bad_Name] }", "scope.clusters"),
        ("rule: { no-privileged: {} }, scope: { exclusions: [{ reason: r, expires: \"2030-01-01T00:00:00Z\" }] }", "scope.exclusions[0].namespace"),
        ("rule: { no-privileged: {} }, scope: { exclusions: [{ namespace: a, reason: r, expires: tomorrow }] }", "scope.exclusions[0].expires"),
        ("rule: { no-privileged: {} }, scope: { exclusions: [{ namespace: a, reason: \" \", expires: \"2030-01-01T00:00:00Z\" }] }", "scope.exclusions[0].reason"),
        ("rule: { image-signed: { trusted_keys: [] } }", "rule.image-signed.trusted_keys"),
        ("rule: { image-scanned: { threshold: high, max_age: 1w } }", "rule.image-scanned.max_age"),
        ("rule: { resource-limits: { cpu: false, memory: false } }", "rule.resource-limits"),
        ("rule: { approved-registries: { registries: [library] } }", "rule.approved-registries.registries"),
        ("rule: { approved-registries: { registries: [] } }", "rule.approved-registries.registries"),
        ("rule: { pod-security: { level: restricted, version: v1.99 } }", "rule.pod-security.version"),
        ("rule: { rego: { module: \"package x\\ndeny contains m if {\", query: data.x.deny } }", "rule.rego"),
        ("rule: { rego: { module: \"package x\\nallow := true\", query: data.x.allow } }", "rule.rego"),
        ("rule: { rego: { module: \"package x\", query: \"\" } }", "rule.rego.query"),
        ("rule: { node-trusted: {} }", "remediation"),
    ];
    for (fields, field) in cases {
        let e = err(&policy(fields));
        assert_eq!(field_of(&e), ("p1", field), "{fields}: {e}");
    }
    let e =
        err(&policy("rule: { no-privileged: {} }")
            .replace("remediation: deny", "remediation: taint"));
    assert_eq!(field_of(&e).1, "remediation", "{e}");
    let e = err(&policy("rule: { node-pid-limit: { max: 0 } }")
        .replace("remediation: deny", "remediation: alert"));
    assert_eq!(field_of(&e).1, "rule.node-pid-limit.max", "{e}");
}

#[test]
fn ids_are_slugs_and_unique() {
    let e = err(&policy("rule: { no-privileged: {} }").replace("id: p1", "id: P_1"));
    assert_eq!(field_of(&e).1, "id");
    let one = "  - { id: p1, description: d, severity: high, mode: enforce, remediation: deny, rule: { no-privileged: {} } }\n";
    let e = err(&format!("version: 1\npolicies:\n{one}{one}"));
    assert_eq!(
        e,
        LoadError::DuplicateId {
            id: "p1".into(),
            first: 0,
            second: 1
        }
    );
}

#[test]
fn limits_hold() {
    let big = vec![b' '; MAX_INPUT_BYTES + 1];
    assert!(matches!(from_yaml(&big), Err(LoadError::TooLarge { .. })));
    assert!(matches!(from_json(&big), Err(LoadError::TooLarge { .. })));
    let one = "  - { id: p, description: d, severity: high, mode: enforce, remediation: deny, rule: { no-privileged: {} } }\n";
    let many = format!("version: 1\npolicies:\n{}", one.repeat(MAX_POLICIES + 1));
    assert!(matches!(err(&many), LoadError::TooManyPolicies { .. }));
    let module = format!(
        "package x\n# {}\ndeny := set()\n",
        "a".repeat(MAX_REGO_MODULE_BYTES)
    );
    let json = serde_json::json!({"version": 1, "policies": [{"id": "p", "description": "d", "severity": "high",
        "mode": "enforce", "remediation": "deny", "rule": {"rego": {"module": module, "query": "data.x.deny"}}}]});
    let e = from_json(json.to_string().as_bytes()).unwrap_err();
    assert_eq!(field_of(&e).1, "rule.rego.module");
    assert_eq!(err("version: 0\npolicies: []\n"), LoadError::Version);
}

#[test]
fn alias_bombs_are_refused() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    yaml.push_str("version: 1\npolicies: *a11\n");
    assert!(from_yaml(yaml.as_bytes()).is_err());
}

#[test]
fn durations_parse() {
    assert_eq!(duration("30s"), Some(30));
    assert_eq!(duration("15m"), Some(900));
    assert_eq!(duration("24h"), Some(86_400));
    assert_eq!(duration("7d"), Some(604_800));
    for bad in ["", "d", "0d", "1w", "-1d", "1.5h", "9999999999d"] {
        assert_eq!(duration(bad), None, "{bad}");
    }
}
