//! The admission webhook that keeps region-bound workloads in their region (brief R9).
//!
//! * **Mutating** (`POST /mutate/pods`, pods CREATE): for each image of the pod, the
//!   broker keys its layers are sealed under ([`images`]) and the asset tags those keys'
//!   transfer policies require; the pod gets required node affinity to trusted Nodes
//!   carrying those tags ([`decide::placement_patch`]), so the key's region becomes the
//!   workload's placement without anyone writing it twice.
//! * **Validating** (`POST /validate/pods`, pods CREATE with `spec.nodeName`, and
//!   pods/binding or bindings CREATE): a pod placed on a Node by hand (its `nodeName`,
//!   or a Binding) skips the scheduler's taint and affinity checks, so the Node must be
//!   trusted (unless the pod tolerates the untrusted taint, as the agent's
//!   DaemonSet does) and carry every tag the pod's encrypted images require.
//!
//! * **Policies** (the validating hook, when a policy set is in force: see
//!   [`crate::enforce`]): pods CREATE, pods UPDATE that change an image,
//!   pods/ephemeralcontainers UPDATE (`kubectl debug`: the containers it adds, see
//!   [`ephemeral`]) and bindings (node-scoped policies only) are judged by the set;
//!   refusals name each denying policy, audit-mode violations come back as warnings,
//!   violations go to the hub.
//!
//! Decisions come from [`crate::view::NodeViews`], the controller's own view of each
//! Node, never from Node labels.
//!
//! **When an image cannot be resolved** (registry or broker unreachable, or slower than
//! the deadline), the mutating hook still applies what the other images need, allows the
//! pod and returns a warning; the validating hook still refuses any Node that is not
//! trusted (that rule needs no image). Refusing instead would turn a registry outage into
//! a cluster that schedules nothing; and the tags are not left unguarded: the key broker
//! releases a key only to a node its policy admits, so a pod that lands elsewhere cannot
//! decrypt its image.
//!
//! Never: mutate anything but the pod's node affinity and one annotation, block longer
//! than the deadline on a lookup, or read an AdmissionReview larger than [`MAX_REVIEW`].

pub(crate) mod cache;
pub mod config;
pub mod decide;
pub mod ephemeral;
pub mod images;
mod policy;
mod review;
mod server;

pub use config::{register, webhook_configurations};
pub use decide::{ImageNeeds, KeyNeeds, PodNeeds, REQUIRED_TAGS_ANNOTATION};
pub use images::{BoxFuture, FixedImages, ImageResolver, RegistryResolver};
pub use server::{router, serve, serve_router, MAX_REVIEW};

use crate::view::NodeViews;
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the registry and broker lookups for one review may take together.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

/// Where the validating hook reads the pod a `pods/binding` names (the request carries
/// only the Binding).
pub trait PodSource: Send + Sync + 'static {
    fn pod<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Pod>, String>>;
}

/// Pods from the API server.
pub struct KubePods(pub kube::Client);

impl PodSource for KubePods {
    fn pod<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Pod>, String>> {
        Box::pin(async move {
            kube::Api::<Pod>::namespaced(self.0.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Fixed pods by (namespace, name), for tests.
pub struct FixedPods(pub HashMap<(String, String), Pod>);

impl PodSource for FixedPods {
    fn pod<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Pod>, String>> {
        let pod = self
            .0
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned();
        Box::pin(async move { Ok(pod) })
    }
}

/// The webhook: Node views, pods, and image resolution, with a deadline.
pub struct Webhook {
    views: Arc<dyn NodeViews>,
    pods: Arc<dyn PodSource>,
    images: Arc<dyn ImageResolver>,
    deadline: Duration,
    enforcement: Option<crate::enforce::Enforcement>,
}

impl Webhook {
    pub fn new(
        views: Arc<dyn NodeViews>,
        pods: Arc<dyn PodSource>,
        images: Arc<dyn ImageResolver>,
    ) -> Webhook {
        Webhook {
            views,
            pods,
            images,
            deadline: DEFAULT_DEADLINE,
            enforcement: None,
        }
    }

    /// Also judge pods by the policy set in force (while one is).
    pub fn with_enforcement(mut self, enforcement: crate::enforce::Enforcement) -> Webhook {
        self.enforcement = Some(enforcement);
        self
    }

    /// The lookups of one review end after `deadline` (keep it well under the
    /// WebhookConfiguration's timeout).
    pub fn with_deadline(mut self, deadline: Duration) -> Webhook {
        self.deadline = deadline;
        self
    }
}
