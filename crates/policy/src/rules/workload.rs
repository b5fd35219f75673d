//! Workload rules read from the pod alone: privileged containers, non-root, a read-only
//! root filesystem, resource limits.

use crate::containers;
use crate::verdict::{Findings, Verdict};
use k8s_openapi::api::core::v1::PodSpec;

pub(super) fn no_privileged(spec: &PodSpec) -> Verdict {
    let mut f = Findings::default();
    for c in containers::all(spec) {
        if c.security_context.and_then(|s| s.privileged) == Some(true) {
            let m = format!("container {} is privileged", c.name);
            f.violation(Some(c.name), c.field("securityContext.privileged"), m);
        }
    }
    f.verdict()
}

/// The container's setting wins over the pod's, as the kubelet applies them.
pub(super) fn run_as_non_root(spec: &PodSpec) -> Verdict {
    let pod = spec.security_context.as_ref();
    let mut f = Findings::default();
    for c in containers::all(spec) {
        let sc = c.security_context;
        let non_root = sc
            .and_then(|s| s.run_as_non_root)
            .or(pod.and_then(|p| p.run_as_non_root));
        if non_root != Some(true) {
            let m = format!(
                "container {} does not require a non-root user: set securityContext.runAsNonRoot=true \
                 on it or on the pod",
                c.name
            );
            f.violation(Some(c.name), c.field("securityContext.runAsNonRoot"), m);
        }
        let user = sc
            .and_then(|s| s.run_as_user)
            .or(pod.and_then(|p| p.run_as_user));
        if user == Some(0) {
            let m = format!("container {} runs as user 0 (root)", c.name);
            f.violation(Some(c.name), c.field("securityContext.runAsUser"), m);
        }
    }
    f.verdict()
}

pub(super) fn read_only_root_filesystem(spec: &PodSpec) -> Verdict {
    let mut f = Findings::default();
    for c in containers::all(spec) {
        if c.security_context.and_then(|s| s.read_only_root_filesystem) != Some(true) {
            let m = format!("container {} has a writable root filesystem: set securityContext.readOnlyRootFilesystem=true", c.name);
            f.violation(
                Some(c.name),
                c.field("securityContext.readOnlyRootFilesystem"),
                m,
            );
        }
    }
    f.verdict()
}

/// Pod-level limits (`spec.resources`) bound every container, so they satisfy the rule.
/// Ephemeral containers are skipped: the API refuses resources on them.
pub(super) fn resource_limits(spec: &PodSpec, cpu: bool, memory: bool) -> Verdict {
    let pod_limits = spec.resources.as_ref().and_then(|r| r.limits.as_ref());
    let mut f = Findings::default();
    for c in containers::all(spec).filter(|c| !c.is_ephemeral()) {
        let limits = c.resources.and_then(|r| r.limits.as_ref());
        for (wanted, name) in [(cpu, "cpu"), (memory, "memory")] {
            let has = |l: Option<&std::collections::BTreeMap<String, _>>| {
                l.is_some_and(|l| l.contains_key(name))
            };
            if wanted && !has(limits) && !has(pod_limits) {
                let m = format!("container {} has no {name} limit", c.name);
                f.violation(
                    Some(c.name),
                    c.field(&format!("resources.limits.{name}")),
                    m,
                );
            }
        }
    }
    f.verdict()
}
