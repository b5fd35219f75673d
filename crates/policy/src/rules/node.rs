//! Node rules (the bound node's trust and kubelet pid limit) and region placement, which
//! asks whether a pod of region-bound images can only land on nodes certified for them.

use super::images::{images, key_ids};
use crate::facts::{Input, NodeFacts};
use crate::verdict::{Findings, NotApplicable, Verdict};
use ironroot_api::TrustState;
use k8s_openapi::api::core::v1::PodSpec;
use std::collections::BTreeMap;

/// The node label that carries a certified asset tag `K=V` (`TAG_PREFIX + K` = `V`). It
/// must stay equal to ironroot-controller's `labels::TAG_PREFIX`, which publishes them.
pub const TAG_PREFIX: &str = "tag.ironroot.node-restriction.kubernetes.io/";

/// The bound node's facts; `Err` with the verdict when the pod is not bound or the node
/// is unknown.
fn bound_node<'a>(input: &'a Input, spec: &PodSpec) -> Result<&'a NodeFacts, Verdict> {
    match (
        &input.facts.node,
        spec.node_name.as_deref().filter(|n| !n.is_empty()),
    ) {
        (Some(node), _) => Ok(node),
        (None, Some(name)) => Err(Verdict::Unknown(vec![format!(
            "nothing is known about node {name} (facts.node)"
        )])),
        (None, None) => Err(Verdict::NotApplicable(NotApplicable::NothingToCheck {
            why: "the pod is not bound to a node".into(),
        })),
    }
}

pub(super) fn trusted(input: &Input, spec: &PodSpec) -> Verdict {
    let node = match bound_node(input, spec) {
        Ok(n) => n,
        Err(v) => return v,
    };
    let mut f = Findings::default();
    match node.trust {
        Some(TrustState::Trusted) => {}
        // Never attested is not judged: unknown, not untrusted (no taint or drain on it).
        None | Some(TrustState::Unknown) => {
            f.unknown(format!("node {} has not been judged", node.name))
        }
        Some(state) => {
            let m = format!("node {} is {}", node.name, state.as_str());
            f.violation(None, "facts.node.trust", m);
        }
    }
    f.verdict()
}

pub(super) fn pid_limit(input: &Input, spec: &PodSpec, max: i64) -> Verdict {
    let node = match bound_node(input, spec) {
        Ok(n) => n,
        Err(v) => return v,
    };
    let mut f = Findings::default();
    match node.pod_pids_limit {
        None => f.unknown(format!(
            "the kubelet podPidsLimit of node {} is not known",
            node.name
        )),
        Some(l) if l <= 0 => {
            let m = format!("node {} sets no pod pid limit (kubelet podPidsLimit {l}); at most {max} is required", node.name);
            f.violation(None, "facts.node.pod_pids_limit", m);
        }
        Some(l) if l > max => {
            let m = format!(
                "node {} allows {l} pids per pod (kubelet podPidsLimit); at most {max} is allowed",
                node.name
            );
            f.violation(None, "facts.node.pod_pids_limit", m);
        }
        Some(_) => {}
    }
    f.verdict()
}

/// The tags every key of the pod's images requires; a conflict is a violation.
fn required_tags(
    input: &Input,
    spec: &PodSpec,
    f: &mut Findings,
) -> BTreeMap<String, (String, String)> {
    let mut tags: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (c, image) in images(spec) {
        let Some(facts) = input.facts.images.get(image) else {
            f.unknown(format!(
                "nothing is known about image {image} (facts.images)"
            ));
            continue;
        };
        for k in key_ids(image, facts, f).unwrap_or_default() {
            let Some(key) = input.facts.keys.get(k) else {
                f.unknown(format!(
                    "the policy of key {k} of image {image} is not known"
                ));
                continue;
            };
            for (tag, value) in &key.required_tags {
                match tags.get(tag) {
                    Some((v, from)) if v != value => {
                        let m = format!("{from} runs only where {tag}={v}, and image {image} (key {k}) only where {tag}={value}: no node can run this pod");
                        f.violation(Some(c.name), c.field("image"), m);
                    }
                    Some(_) => {}
                    None => {
                        tags.insert(
                            tag.clone(),
                            (value.clone(), format!("image {image} (key {k})")),
                        );
                    }
                }
            }
        }
    }
    tags
}

/// Whether the pod can only be scheduled where label `label` is `value`: the node
/// selector says so, or every required node-affinity term (they are ORed) does.
fn requires(spec: &PodSpec, label: &str, value: &str) -> bool {
    if spec
        .node_selector
        .as_ref()
        .and_then(|s| s.get(label))
        .is_some_and(|v| v == value)
    {
        return true;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let Some(required) = required else {
        return false;
    };
    !required.node_selector_terms.is_empty()
        && required.node_selector_terms.iter().all(|t| {
            t.match_expressions.iter().flatten().any(|e| {
                e.key == label
                    && e.operator == "In"
                    && e.values
                        .as_ref()
                        .is_some_and(|v| !v.is_empty() && v.iter().all(|v| v == value))
            })
        })
}

pub(super) fn region_placement(input: &Input, spec: &PodSpec) -> Verdict {
    let mut f = Findings::default();
    let tags = required_tags(input, spec, &mut f);
    if let Some(node) = &input.facts.node {
        match &node.certified_tags {
            None if !tags.is_empty() => f.unknown(format!(
                "the certified tags of node {} are not known",
                node.name
            )),
            None => {}
            Some(certified) => {
                for (tag, (value, from)) in &tags {
                    if certified.get(tag) != Some(value) {
                        let m = format!(
                            "{from} requires {tag}={value}, which node {} is not certified for",
                            node.name
                        );
                        f.violation(None, "spec.nodeName", m);
                    }
                }
            }
        }
        return f.verdict();
    }
    for (tag, (value, from)) in &tags {
        let label = format!("{TAG_PREFIX}{tag}");
        if !requires(spec, &label, value) {
            let m = format!(
                "{from} requires {tag}={value}: the pod must require node label {label}={value}"
            );
            f.violation(
                None,
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                m,
            );
        }
    }
    f.verdict()
}
