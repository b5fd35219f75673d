//! One AdmissionRequest to one AdmissionResponse: which requests each hook looks at, the
//! image lookups under the deadline, and refusals as the API server shows them.

use super::decide::{self, ImageNeeds, PodNeeds};
use super::{ephemeral, policy, Webhook};
use crate::enforce::Scope;
use k8s_openapi::api::core::v1::{Binding, Pod};
use kube::core::admission::{AdmissionRequest, AdmissionResponse, Operation};
use kube::core::{DynamicObject, Status};
use serde::de::DeserializeOwned;

pub(super) type Request = AdmissionRequest<DynamicObject>;

/// Whether the request creates a pod.
fn creates_pod(req: &Request) -> bool {
    creates(req, "pods", None)
}

/// Whether the request creates a Binding: `pods/binding`, or the legacy `bindings`
/// resource (the same binding by another path, which must not be a way around the hook).
fn creates_binding(req: &Request) -> bool {
    creates(req, "pods", Some("binding")) || creates(req, "bindings", None)
}

pub(super) fn creates(req: &Request, resource: &str, sub: Option<&str>) -> bool {
    req.operation == Operation::Create
        && req.resource.group.is_empty()
        && req.resource.resource == resource
        && req.sub_resource.as_deref() == sub
}

pub(super) fn object<T: DeserializeOwned>(req: &Request, what: &str) -> Result<T, String> {
    let obj = req
        .object
        .as_ref()
        .ok_or_else(|| format!("the request carries no {what}"))?;
    serde_json::to_value(obj)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("the request's object is not a {what}: {e}"))
}

fn deny(req: &Request, message: String) -> AdmissionResponse {
    let mut res = AdmissionResponse::from(req);
    res.allowed = false;
    res.result = Status::failure(&message, "Forbidden").with_code(403);
    res
}

fn with_warnings(mut res: AdmissionResponse, warnings: Vec<String>) -> AdmissionResponse {
    if !warnings.is_empty() {
        res.warnings = Some(warnings);
    }
    res
}

impl Webhook {
    /// Pods CREATE: required node affinity for the pod's encrypted images.
    pub async fn mutate(&self, req: &Request) -> AdmissionResponse {
        if !creates_pod(req) {
            return AdmissionResponse::from(req);
        }
        let pod: Pod = match object(req, "Pod") {
            Ok(p) => p,
            Err(e) => return deny(req, e),
        };
        let needs = match self.pod_needs(&pod).await {
            Ok(n) => n,
            Err(refusal) => return deny(req, refusal),
        };
        let res = match decide::placement_patch(&pod, &needs) {
            Ok(None) => AdmissionResponse::from(req),
            Ok(Some(patch)) => match AdmissionResponse::from(req).with_patch(patch) {
                Ok(r) => r,
                Err(e) => return deny(req, e.to_string()),
            },
            Err(refusal) => return deny(req, refusal),
        };
        with_warnings(res, needs.warnings())
    }

    /// Pods CREATE with `spec.nodeName`, and pods/binding CREATE: the Node must be
    /// trusted and carry the tags the pod's encrypted images require. With a policy set in
    /// force, pods CREATE, pods UPDATE that change an image, pods/ephemeralcontainers
    /// UPDATE that add a container (judged alone, see [`ephemeral`]), and bindings
    /// (node-scoped policies) are also judged by it, at the same time.
    pub async fn validate(&self, req: &Request) -> AdmissionResponse {
        let (pod, node, scope) = if creates_pod(req) {
            match object::<Pod>(req, "Pod") {
                Ok(pod) => {
                    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
                    // Without one, the scheduler places it, under the taints and the affinity.
                    (pod, node.filter(|n| !n.is_empty()), Scope::Pod)
                }
                Err(e) => return deny(req, e),
            }
        } else if policy::changes_images(req) {
            match object::<Pod>(req, "Pod") {
                Ok(pod) => (pod, None, Scope::Pod),
                Err(e) => return deny(req, e),
            }
        } else if ephemeral::updates_ephemeral(req) {
            // The pod already runs where it was placed: only the policies judge what it adds.
            match ephemeral::to_judge(req) {
                Ok(Some(pod)) => (pod, None, Scope::Pod),
                Ok(None) => return AdmissionResponse::from(req),
                Err(e) => return deny(req, e),
            }
        } else if creates_binding(req) {
            match self.bound_pod(req).await {
                Ok((pod, node)) => (pod, Some(node), Scope::Binding),
                Err(e) => return deny(req, e),
            }
        } else {
            return AdmissionResponse::from(req);
        };
        let placement = async {
            match &node {
                Some(n) => self.placement(&pod, n).await,
                None => Ok(Vec::new()),
            }
        };
        let judged = self.judge_policies(req, &pod, node.as_deref(), scope);
        let (placement, judged) = tokio::join!(placement, judged);
        let (mut refusals, mut warnings) = (Vec::new(), Vec::new());
        match placement {
            Ok(w) => warnings.extend(w),
            Err(refusal) => refusals.push(refusal),
        }
        if let Some(j) = judged {
            refusals.extend(j.refusal);
            warnings.extend(j.warnings);
            self.report(req, j.events, !refusals.is_empty());
        }
        let res = match refusals.is_empty() {
            true => AdmissionResponse::from(req),
            false => deny(req, refusals.join("; ")),
        };
        with_warnings(res, warnings)
    }

    /// The pod a Binding names (read from the API server) and its target Node.
    async fn bound_pod(&self, req: &Request) -> Result<(Pod, String), String> {
        let binding: Binding = object(req, "Binding")?;
        if binding
            .target
            .kind
            .as_deref()
            .is_some_and(|k| !k.is_empty() && k != "Node")
        {
            return Err("a pod can only be bound to a Node".into());
        }
        let node = binding
            .target
            .name
            .filter(|n| !n.is_empty())
            .ok_or("the Binding names no Node")?;
        let name = match req.name.as_str() {
            "" => binding.metadata.name.unwrap_or_default(),
            n => n.to_owned(),
        };
        let namespace = req.namespace.clone().unwrap_or_default();
        let read = tokio::time::timeout(self.deadline, self.pods.pod(&namespace, &name)).await;
        let pod = match read {
            Ok(Ok(Some(pod))) => pod,
            Ok(Ok(None)) => return Err(format!("pod {namespace}/{name} does not exist")),
            Ok(Err(e)) => {
                return Err(format!(
                    "could not read pod {namespace}/{name} to check where it may run: {e}"
                ))
            }
            Err(_) => {
                return Err(format!(
                    "could not read pod {namespace}/{name} within {:?} to check where it may run",
                    self.deadline
                ))
            }
        };
        Ok((pod, node))
    }

    /// Whether `pod` may run on `node`; warnings for images that could not be resolved.
    async fn placement(&self, pod: &Pod, node: &str) -> Result<Vec<String>, String> {
        let view = self.views.view(node);
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or_default();
        if let Some(refusal) = decide::untrusted_refusal(node, &view, tolerations) {
            return Err(refusal);
        }
        let needs = self.pod_needs(pod).await?;
        match decide::tag_refusal(node, &view, &needs) {
            Some(refusal) => Err(refusal),
            None => Ok(needs.warnings()),
        }
    }

    /// What the pod's images need, each resolved concurrently; an image with no answer
    /// by the deadline is unresolved. Its lookup goes on in the background, so the
    /// answer is cached for the API server's retry.
    async fn pod_needs(&self, pod: &Pod) -> Result<PodNeeds, String> {
        let lookups: Vec<_> = decide::pod_images(pod)
            .into_iter()
            .map(|image| {
                let images = self.images.clone();
                let name = image.clone();
                (
                    image,
                    tokio::spawn(async move { images.resolve(&name).await }),
                )
            })
            .collect();
        let until = tokio::time::Instant::now() + self.deadline;
        let mut resolved = Vec::with_capacity(lookups.len());
        for (image, lookup) in lookups {
            let needs = match tokio::time::timeout_at(until, lookup).await {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => ImageNeeds::Unresolved(format!("the lookup failed: {e}")),
                Err(_) => ImageNeeds::Unresolved(format!(
                    "the registry and the key broker did not answer within {:?}",
                    self.deadline
                )),
            };
            resolved.push((image, needs));
        }
        PodNeeds::combine(&resolved)
    }
}

#[cfg(test)]
#[path = "review_tests.rs"]
mod tests;
