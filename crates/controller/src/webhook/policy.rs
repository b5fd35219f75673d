//! The validating hook's policy half: which requests the policy set judges, the judgement
//! of one pod (see [`crate::enforce`]), and its violations on their way to the hub.

use super::decide::pod_images;
use super::review::{object, Request};
use super::Webhook;
use crate::enforce::{judge, judge::pod_name, Judgement, Scope};
use ironroot_api::{ObjectRef, ViolationAction, ViolationEvent};
use k8s_openapi::api::core::v1::Pod;
use kube::core::admission::Operation;

/// Whether the request is a pod UPDATE that changes what runs: an image of a container
/// (or of an init container) differs from the stored pod's. Other pod updates (labels,
/// finalizers, a deletion's last steps) are not judged again, so a pod admitted before a
/// policy existed can still be relabelled and deleted.
pub(super) fn changes_images(req: &Request) -> bool {
    if req.operation != Operation::Update
        || !req.resource.group.is_empty()
        || req.resource.resource != "pods"
        || req.sub_resource.is_some()
    {
        return false;
    }
    let old = req.old_object.as_ref().and_then(|o| {
        serde_json::to_value(o)
            .and_then(serde_json::from_value::<Pod>)
            .ok()
    });
    match (old, object::<Pod>(req, "Pod")) {
        (Some(old), Ok(new)) => pod_images(&old) != pod_images(&new),
        // Cannot tell: judge it.
        _ => true,
    }
}

impl Webhook {
    /// The policy set's judgement of `pod` (`None`: no set in force). For a binding the
    /// pod is judged as bound to `node`, by the node-scoped policies.
    pub(super) async fn judge_policies(
        &self,
        req: &Request,
        pod: &Pod,
        node: Option<&str>,
        scope: Scope,
    ) -> Option<Judgement> {
        let enforcement = self.enforcement.as_ref()?;
        let namespace = req
            .namespace
            .clone()
            .or_else(|| pod.metadata.namespace.clone())
            .unwrap_or_default();
        let bound;
        let pod = match (scope, node) {
            (Scope::Binding, Some(node)) => {
                let mut p = pod.clone();
                p.spec.get_or_insert_with(Default::default).node_name = Some(node.to_owned());
                bound = p;
                &bound
            }
            _ => pod,
        };
        let decision = enforcement
            .decide(pod, &namespace, scope, self.deadline)
            .await?;
        let name = match pod_name(pod) {
            n if n.is_empty() => req.name.clone(),
            n => n,
        };
        let object = ObjectRef {
            namespace,
            kind: "Pod".into(),
            name,
        };
        Some(judge(&decision, &object, ironroot_timestamp::now_unix()))
    }

    /// Queues `events` for the hub (as refused when the request is), except on a dry run:
    /// the hooks declare no side effects.
    pub(super) fn report(&self, req: &Request, mut events: Vec<ViolationEvent>, refused: bool) {
        let Some(queue) = self
            .enforcement
            .as_ref()
            .and_then(|e| e.violations.as_ref())
        else {
            return;
        };
        if req.dry_run {
            return;
        }
        for mut e in events.drain(..) {
            if refused {
                e.action = ViolationAction::Denied;
            }
            queue.push(e);
        }
    }
}
