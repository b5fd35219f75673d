//! The Kubernetes side of ironroot (brief R5, R9): a controller that follows the
//! service's trust events and publishes each bound Node's trust, certified asset tags and
//! latest signed report under the `node-restriction.kubernetes.io/` prefix (which a
//! kubelet cannot write), taints every Node that is not trusted, drains a tampered one
//! through the Eviction API behind a brake, and an admission webhook that places pods of
//! encrypted images where their key's transfer policy allows and refuses binding them
//! anywhere else.
//!
//! The pure parts (label names, the desired state of a Node and the patch that reaches
//! it, the drain brake, admission decisions) are separate from the I/O (kube-rs, the
//! service's client, the webhook's HTTPS server), and tested on their own. It never
//! decides trust itself: the service does; it only carries the service's verdicts.

pub mod brake;
pub mod command;
pub mod desired;
pub mod drain;
pub mod enforce;
pub mod follow;
pub mod hub;
pub mod labels;
pub mod policies;
pub mod reconcile;
pub mod remediation;
pub mod run;
pub mod state;
pub mod view;
pub mod webhook;

pub use view::{NodeView, NodeViews};
