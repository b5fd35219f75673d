//! The built-ins that need no outside data, as `admissionregistration.k8s.io/v1`
//! ValidatingAdmissionPolicies (CEL, run by the API server itself), so that they hold
//! while the webhook is down: no-privileged, run-as-non-root, read-only-root-filesystem,
//! resource-limits and approved-registries, each with the semantics of its rule in
//! `crates/policy/src/rules` (the container's setting wins over the pod's; pod-level
//! limits satisfy resource-limits; Docker's name normalization for registries).
//!
//! Pods CREATE, and UPDATE of `pods/ephemeralcontainers` (`kubectl debug`), where only
//! the ephemeral containers the update adds are judged (a pod's other containers do not
//! change after CREATE; an ephemeral container may not set resources, so resource-limits
//! skips them, as the engine does). `enforce` + `deny` binds
//! with `[Deny]`, anything else with `[Audit, Warn]`. The scope's namespaces and unexpired
//! exclusions become match conditions on the request's namespace and the pod's name (or
//! `generateName`); an exclusion that expires keeps excluding here until the next audit
//! pass regenerates the objects (the webhook judges it at once). Clusters are decided
//! here: a policy out of this cluster's scope gets no object.

use crate::policies::Active;
use ironroot_policy::{Failure, Mode, Pattern, Policy, Remediation, Rule, Selection};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The name of a policy's objects (policy and binding).
pub fn object_name(policy_id: &str) -> String {
    format!("ironroot-{policy_id}")
}

/// Every ValidatingAdmissionPolicy and its binding for `active` at `now`, by name.
/// `excluded_namespaces` (the controller's own, kube-system) are never matched.
pub fn desired(
    active: &Active,
    excluded_namespaces: &[String],
    now: u64,
) -> BTreeMap<String, (Value, Value)> {
    active
        .set
        .policies()
        .iter()
        .filter(|p| p.scope.clusters.contains(&active.cluster))
        .filter_map(|p| {
            let validations = validations(p)?;
            let name = object_name(&p.id);
            let selector = json!({ "matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": excluded_namespaces,
            }]});
            let labels = json!({ super::MANAGED_BY.0: super::MANAGED_BY.1 });
            let policy = json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicy",
                "metadata": { "name": name, "labels": labels },
                "spec": {
                    "failurePolicy": if p.failure == Failure::Closed { "Fail" } else { "Ignore" },
                    "matchConstraints": {
                        "resourceRules": [
                            {
                                "apiGroups": [""], "apiVersions": ["v1"],
                                "operations": ["CREATE"], "resources": ["pods"],
                            },
                            {
                                "apiGroups": [""], "apiVersions": ["v1"],
                                "operations": ["UPDATE"], "resources": ["pods/ephemeralcontainers"],
                            },
                        ],
                        "namespaceSelector": selector,
                    },
                    "matchConditions": [{ "name": "in-scope", "expression": scope_condition(p, now) }],
                    "variables": [
                        { "name": "containers", "expression": CONTAINERS },
                        { "name": "debug", "expression": NEW_EPHEMERAL },
                    ],
                    "validations": validations,
                },
            });
            let actions = if p.mode == Mode::Enforce && p.remediation == Remediation::Deny {
                json!(["Deny"])
            } else {
                json!(["Audit", "Warn"])
            };
            let binding = json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": { "name": name, "labels": labels },
                "spec": {
                    "policyName": name,
                    "validationActions": actions,
                    "matchResources": { "namespaceSelector": selector },
                },
            });
            Some((name, (policy, binding)))
        })
        .collect()
}

/// Init containers and containers on a CREATE; none on an ephemeral-container update
/// (they were judged when the pod was created).
const CONTAINERS: &str = "request.?subResource.orValue('') == 'ephemeralcontainers' ? [] : \
    object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])";

/// The ephemeral containers an update of `pods/ephemeralcontainers` adds (by name: the
/// API server refuses changes to one already there); none on a CREATE.
const NEW_EPHEMERAL: &str = "request.?subResource.orValue('') == 'ephemeralcontainers' && \
    has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers.filter(e, \
    !(has(oldObject.spec.ephemeralContainers) && \
    oldObject.spec.ephemeralContainers.exists(o, o.name == e.name))) : []";

/// The pod's name as the engine reads it: its name, else its `generateName`.
const POD_NAME: &str = "(has(object.metadata.name) && object.metadata.name != '' ? object.metadata.name : (has(object.metadata.generateName) ? object.metadata.generateName : ''))";

/// A scope pattern (`a-z0-9.-*` only, see `Pattern`) as an anchored RE2 expression.
fn pattern_regex(p: &Pattern) -> String {
    let body: String = p
        .as_str()
        .chars()
        .map(|c| match c {
            '*' => ".*".to_owned(),
            '.' => "[.]".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("'^{body}$'")
}

fn scope_condition(p: &Policy, now: u64) -> String {
    let mut terms = Vec::new();
    if let Selection::Names(names) = &p.scope.namespaces {
        let any: Vec<String> = names
            .iter()
            .map(|n| format!("request.namespace.matches({})", pattern_regex(n)))
            .collect();
        terms.push(if any.is_empty() {
            "false".to_owned()
        } else {
            format!("({})", any.join(" || "))
        });
    }
    for e in p.scope.exclusions.iter().filter(|e| now < e.expires) {
        let mut all = Vec::new();
        if let Some(ns) = &e.namespace {
            all.push(format!("request.namespace.matches({})", pattern_regex(ns)));
        }
        if let Some(n) = &e.name {
            all.push(format!("{POD_NAME}.matches({})", pattern_regex(n)));
        }
        if !all.is_empty() {
            terms.push(format!("!({})", all.join(" && ")));
        }
    }
    if terms.is_empty() {
        "true".to_owned()
    } else {
        terms.join(" && ")
    }
}

fn check(expression: String, message: String) -> Value {
    json!({ "expression": expression, "message": message, "reason": "Forbidden" })
}

/// The CEL validations of `p`'s rule; `None` for rules that need outside data (facts) or
/// that CEL here does not express (Rego, Pod Security Standards: the API server's own Pod
/// Security Admission is their in-server form).
fn validations(p: &Policy) -> Option<Vec<Value>> {
    let id = &p.id;
    // Every container the request adds: the pod's own on a CREATE, new ephemeral ones.
    let all = |cond: &str| {
        format!("variables.containers.all(c, {cond}) && variables.debug.all(c, {cond})")
    };
    let pods_own = |cond: &str| format!("variables.containers.all(c, {cond})");
    let v = match &p.rule {
        Rule::NoPrivileged => vec![check(
            all("!(has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)"),
            format!("{id}: privileged containers are not allowed"),
        )],
        Rule::RunAsNonRoot => vec![
            check(
                all("c.?securityContext.?runAsNonRoot.orValue(object.spec.?securityContext.?runAsNonRoot.orValue(false)) == true"),
                format!("{id}: every container must require a non-root user (securityContext.runAsNonRoot=true on it or on the pod)"),
            ),
            check(
                all("c.?securityContext.?runAsUser.orValue(object.spec.?securityContext.?runAsUser.orValue(-1)) != 0"),
                format!("{id}: no container may run as user 0 (root)"),
            ),
        ],
        Rule::ReadOnlyRootFilesystem => vec![check(
            all("c.?securityContext.?readOnlyRootFilesystem.orValue(false) == true"),
            format!("{id}: every container must have securityContext.readOnlyRootFilesystem=true"),
        )],
        Rule::ResourceLimits { cpu, memory } => [(*cpu, "cpu"), (*memory, "memory")]
            .into_iter()
            .filter(|(wanted, _)| *wanted)
            .map(|(_, r)| {
                // `dyn`: the API server's type checker does not resolve the quantity maps
                // of ResourceRequirements ("undefined field 'limits'").
                let pod = format!("(has(object.spec.resources) && '{r}' in dyn(object.spec.resources).?limits.orValue({{}}))");
                let each = pods_own(&format!("has(c.resources) && '{r}' in dyn(c.resources).?limits.orValue({{}})"));
                check(format!("{pod} || {each}"), format!("{id}: every container must have a {r} limit"))
            })
            .collect(),
        Rule::ApprovedRegistries { registries } => {
            let any: Vec<String> = registries.iter().map(|r| super::vap_registry::covers(&r.to_string())).collect();
            let any = if any.is_empty() { "false".to_owned() } else { any.join(" || ") };
            let list: Vec<String> = registries.iter().map(ToString::to_string).collect();
            vec![check(
                all(&format!("has(c.image) && ({any})")),
                format!("{id}: images must come from an approved registry ({})", list.join(", ")),
            )]
        }
        _ => return None,
    };
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
#[path = "vap_tests.rs"]
mod tests;
