//! `kubectl debug` and its like: an ephemeral container added to a running pod through the
//! `pods/ephemeralcontainers` subresource (an UPDATE whose object is the whole Pod). It
//! can run any image, privileged, as root, beside the pod's other containers on their
//! node, so the validating hook judges it as it judges a CREATE: the pod with only the
//! ephemeral containers the update adds, and the images they run.
//!
//! Left out: the pod's containers, init containers and earlier ephemeral containers, which
//! were judged when they came (a pod admitted before a policy existed can still be debugged
//! with a compliant container). Kept: the pod's own fields (security context, host
//! namespaces, volumes, node), because the new container runs under them, as Pod Security
//! Admission also has it.
//!
//! Never: read an `EphemeralContainers` object (Kubernetes before 1.22) as a Pod with
//! nothing new in it; it is refused.

use super::review::{object, Request};
use k8s_openapi::api::core::v1::{EphemeralContainer, Pod};
use kube::core::admission::Operation;

/// The subresource `kubectl debug` writes to.
pub const SUBRESOURCE: &str = "ephemeralcontainers";

/// Whether the request updates a pod's ephemeral containers.
pub(super) fn updates_ephemeral(req: &Request) -> bool {
    req.operation == Operation::Update
        && req.resource.group.is_empty()
        && req.resource.resource == "pods"
        && req.sub_resource.as_deref() == Some(SUBRESOURCE)
}

/// The pod to judge for an ephemeral-containers update (see [`added`]); `None` when the
/// update adds none.
pub(super) fn to_judge(req: &Request) -> Result<Option<Pod>, String> {
    // Before 1.22 the object was an `EphemeralContainers`, which would read as a Pod
    // without a spec, so with nothing to judge.
    if req.kind.kind != "Pod" {
        return Err(format!(
            "the request's object is a {:?}, not a Pod",
            req.kind.kind
        ));
    }
    let new: Pod = object(req, "Pod")?;
    // An unreadable old pod counts as none: every ephemeral container is judged.
    let old = req.old_object.as_ref().and_then(|o| {
        serde_json::to_value(o)
            .and_then(serde_json::from_value::<Pod>)
            .ok()
    });
    Ok(added(old.as_ref(), new))
}

/// `new` as it is judged: only the ephemeral containers that `old` does not have (by
/// name, or under that name with another spec: the API server forbids changing one, but
/// the hook does not count on it), no containers, no init containers. `None` when nothing
/// is added. Without `old`, every ephemeral container is new.
pub fn added(old: Option<&Pod>, mut new: Pod) -> Option<Pod> {
    let before: &[EphemeralContainer] = old
        .and_then(|p| p.spec.as_ref())
        .and_then(|s| s.ephemeral_containers.as_deref())
        .unwrap_or_default();
    let spec = new.spec.as_mut()?;
    let fresh: Vec<EphemeralContainer> = spec
        .ephemeral_containers
        .take()
        .into_iter()
        .flatten()
        .filter(|c| before.iter().find(|o| o.name == c.name) != Some(c))
        .collect();
    if fresh.is_empty() {
        return None;
    }
    spec.ephemeral_containers = Some(fresh);
    spec.containers = Vec::new();
    spec.init_containers = None;
    Some(new)
}

#[cfg(test)]
#[path = "ephemeral_tests.rs"]
mod tests;
