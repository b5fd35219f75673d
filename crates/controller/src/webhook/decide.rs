//! The admission decisions, pure: what a pod's images need (the union of their keys'
//! tags), the JSON patch that turns that into required node affinity, and whether a
//! Node may receive the pod. No I/O: the caller resolves images and Node views first.

use crate::labels::{is_label_value, tag_label, TAINT_KEY, TRUST_LABEL};
use crate::view::NodeView;
use ironroot_api::TrustState;
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation};
use k8s_openapi::api::core::v1::{NodeSelectorRequirement, Pod, Toleration};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Informational: the tags the webhook found a pod's images to need (compact JSON).
pub const REQUIRED_TAGS_ANNOTATION: &str = "ironroot.node-restriction.kubernetes.io/required-tags";

/// One broker key an image is sealed under, and the tags its transfer policy requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNeeds {
    /// The key's name (its id when the broker did not say), for messages.
    pub key: String,
    pub tags: BTreeMap<String, String>,
}

/// What one image needs, as the resolver found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageNeeds {
    /// No layer carries an ironroot key: it runs anywhere the scheduler puts it.
    Plain,
    /// Layers sealed under these broker keys.
    Encrypted(Vec<KeyNeeds>),
    /// Could not tell (registry or broker unreachable or too slow, image not found): why.
    Unresolved(String),
}

/// What a pod needs: the union over its images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodNeeds {
    /// The pod's ironroot-encrypted images.
    pub encrypted: Vec<String>,
    /// Every tag their keys require.
    pub tags: BTreeMap<String, String>,
    /// Images that could not be resolved, and why.
    pub unresolved: Vec<(String, String)>,
}

impl PodNeeds {
    /// The union of what `images` need. Two keys that want different values for one tag
    /// can never both be released to one node: the pod is refused, naming both.
    pub fn combine(images: &[(String, ImageNeeds)]) -> Result<PodNeeds, String> {
        let mut needs = PodNeeds::default();
        let mut source: BTreeMap<String, String> = BTreeMap::new();
        for (image, what) in images {
            match what {
                ImageNeeds::Plain => {}
                ImageNeeds::Unresolved(why) => needs.unresolved.push((image.clone(), why.clone())),
                ImageNeeds::Encrypted(keys) => {
                    needs.encrypted.push(image.clone());
                    for k in keys {
                        for (tag, value) in &k.tags {
                            let here = format!("image {image} (key {})", k.key);
                            match needs.tags.get(tag) {
                                Some(v) if v != value => {
                                    let there = source.get(tag).cloned().unwrap_or_default();
                                    return Err(format!(
                                        "{there} runs only where {tag}={v}, and {here} only where \
                                         {tag}={value}: no node can run this pod"
                                    ));
                                }
                                Some(_) => {}
                                None => {
                                    needs.tags.insert(tag.clone(), value.clone());
                                    source.insert(tag.clone(), here);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(needs)
    }

    /// Warnings for the API client: the images placement could not account for.
    pub fn warnings(&self) -> Vec<String> {
        self.unresolved
            .iter()
            .map(|(image, why)| {
                format!(
                    "ironroot could not tell whether image {image} is encrypted ({why}); its \
                     placement is not constrained for it, and the key broker still refuses its \
                     key to a node outside the key's policy"
                )
            })
            .collect()
    }
}

/// The images of a pod that pull: init containers, containers and ephemeral containers
/// (`kubectl debug` adds them to a running pod), each once.
pub fn pod_images(pod: &Pod) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(spec) = &pod.spec else {
        return out;
    };
    let init = spec.init_containers.iter().flatten();
    let images = init
        .chain(spec.containers.iter())
        .map(|c| c.image.as_deref());
    let ephemeral = spec.ephemeral_containers.iter().flatten();
    for image in images.chain(ephemeral.map(|c| c.image.as_deref())) {
        if let Some(image) = image.filter(|i| !i.is_empty()) {
            if !out.iter().any(|i| i == image) {
                out.push(image.to_owned());
            }
        }
    }
    out
}

/// The node selector requirements that say "trusted, and carrying these tags".
pub fn placement_requirements(
    tags: &BTreeMap<String, String>,
) -> Result<Vec<NodeSelectorRequirement>, String> {
    let mut out = vec![requirement(
        TRUST_LABEL.to_owned(),
        TrustState::Trusted.as_str(),
    )];
    for (key, value) in tags {
        let label = tag_label(key).ok_or_else(|| {
            format!(
                "the key policy requires asset tag {key:?}, which cannot be a Kubernetes \
                 label name, so no node can be selected for it"
            )
        })?;
        if !is_label_value(value) {
            return Err(format!(
                "the key policy requires asset tag {key}={value:?}, whose value cannot be a \
                 Kubernetes label value, so no node can be selected for it"
            ));
        }
        out.push(requirement(label, value));
    }
    Ok(out)
}

fn requirement(key: String, value: &str) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key,
        operator: "In".into(),
        values: Some(vec![value.to_owned()]),
    }
}

/// The JSON patch that confines a pod to nodes its images' keys may be released to:
/// required node affinity ANDed into every existing term (terms are ORed, so each must
/// carry the requirements), and the informational annotation. `None` when the pod has
/// no encrypted image. Requirements already present are not added again, so a second
/// invocation (reinvocationPolicy IfNeeded) changes nothing.
pub fn placement_patch(pod: &Pod, needs: &PodNeeds) -> Result<Option<Patch>, String> {
    if needs.encrypted.is_empty() {
        return Ok(None);
    }
    let wanted = placement_requirements(&needs.tags)?;
    let mut ops = affinity_ops(pod, &wanted)?;
    let tags = serde_json::to_string(&needs.tags).map_err(|e| e.to_string())?;
    ops.push(match &pod.metadata.annotations {
        None => add(
            &["metadata", "annotations"],
            json!({ REQUIRED_TAGS_ANNOTATION: tags }),
        ),
        Some(_) => add(
            &["metadata", "annotations", REQUIRED_TAGS_ANNOTATION],
            json!(tags),
        ),
    });
    Ok(Some(Patch(ops)))
}

const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";

fn affinity_ops(
    pod: &Pod,
    wanted: &[NodeSelectorRequirement],
) -> Result<Vec<PatchOperation>, String> {
    let as_json =
        |v: &[NodeSelectorRequirement]| serde_json::to_value(v).map_err(|e| e.to_string());
    let term = || -> Result<Value, String> {
        Ok(json!({ "nodeSelectorTerms": [{ "matchExpressions": as_json(wanted)? }] }))
    };
    let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
    let Some(affinity) = affinity else {
        return Ok(vec![add(
            &["spec", "affinity"],
            json!({ "nodeAffinity": { REQUIRED: term()? } }),
        )]);
    };
    let Some(node) = &affinity.node_affinity else {
        return Ok(vec![add(
            &["spec", "affinity", "nodeAffinity"],
            json!({ REQUIRED: term()? }),
        )]);
    };
    let Some(required) = &node.required_during_scheduling_ignored_during_execution else {
        return Ok(vec![add(
            &["spec", "affinity", "nodeAffinity", REQUIRED],
            term()?,
        )]);
    };
    let mut ops = Vec::new();
    for (i, t) in required.node_selector_terms.iter().enumerate() {
        let exprs = t.match_expressions.as_deref().unwrap_or_default();
        // An empty term matches no node; ANDing into it would make it match some.
        if exprs.is_empty() && t.match_fields.as_deref().unwrap_or_default().is_empty() {
            continue;
        }
        let missing: Vec<NodeSelectorRequirement> = wanted
            .iter()
            .filter(|w| !exprs.contains(w))
            .cloned()
            .collect();
        if missing.is_empty() {
            continue;
        }
        let idx = i.to_string();
        let at = [
            "spec",
            "affinity",
            "nodeAffinity",
            REQUIRED,
            "nodeSelectorTerms",
            idx.as_str(),
            "matchExpressions",
        ];
        if t.match_expressions.is_none() {
            ops.push(add(&at, as_json(&missing)?));
        } else {
            for m in &missing {
                let mut each = at.to_vec();
                each.push("-");
                ops.push(add(
                    &each,
                    serde_json::to_value(m).map_err(|e| e.to_string())?,
                ));
            }
        }
    }
    Ok(ops)
}

fn add(path: &[&str], value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation {
        path: PointerBuf::from_tokens(path.iter().copied()),
        value,
    })
}

/// Whether `tolerations` tolerate the untrusted taint with value `state` and effect
/// NoSchedule, by the scheduler's rule (so the ironroot agent's DaemonSet, which
/// tolerates it, still lands on a node that is not trusted yet).
pub fn tolerates_untrusted(tolerations: &[Toleration], state: &str) -> bool {
    tolerations.iter().any(|t| {
        let effect = matches!(t.effect.as_deref(), None | Some("") | Some("NoSchedule"));
        let key = t.key.as_deref().unwrap_or_default();
        let matches = match t.operator.as_deref() {
            Some("Exists") => key.is_empty() || key == TAINT_KEY,
            None | Some("") | Some("Equal") => {
                key == TAINT_KEY && t.value.as_deref().unwrap_or_default() == state
            }
            Some(_) => false,
        };
        effect && matches
    })
}

/// The refusal for placing any pod on `node` when it is not trusted and the pod does not
/// tolerate the taint. Needs no image lookup.
pub fn untrusted_refusal(
    node: &str,
    view: &NodeView,
    tolerations: &[Toleration],
) -> Option<String> {
    if view.trust == TrustState::Trusted || tolerates_untrusted(tolerations, view.trust.as_str()) {
        return None;
    }
    Some(format!(
        "node {node} is {}{}: ironroot admits pods only onto trusted nodes, unless they tolerate \
         the taint {TAINT_KEY}",
        view.trust,
        because(view)
    ))
}

/// The refusal for placing a pod with encrypted images on `node`: it must be trusted
/// (whatever the pod tolerates: the keys go only to trusted nodes) and carry every tag.
pub fn tag_refusal(node: &str, view: &NodeView, needs: &PodNeeds) -> Option<String> {
    if needs.encrypted.is_empty() || view.admits(&needs.tags) {
        return None;
    }
    let images = needs.encrypted.join(", ");
    if view.trust != TrustState::Trusted {
        return Some(format!(
            "node {node} is {}{}: the pod's encrypted images ({images}) run only on trusted nodes",
            view.trust,
            because(view)
        ));
    }
    let missing: Vec<String> = needs
        .tags
        .iter()
        .filter(|(k, v)| view.tags.get(*k) != Some(*v))
        .map(|(k, v)| match view.tags.get(k) {
            Some(has) => format!("{k}={v} (it has {k}={has})"),
            None => format!("{k}={v}"),
        })
        .collect();
    Some(format!(
        "node {node} lacks the asset tag {} that the keys of the pod's encrypted images ({images}) \
         require",
        missing.join(" and ")
    ))
}

fn because(view: &NodeView) -> String {
    if view.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", view.reason)
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
