//! What the controller knows about one Kubernetes Node: the trust the service reports for
//! the host bound to it, and the asset tags the service certified for that host. The
//! reconciler publishes it on the Node; the admission webhook decides placement from it
//! (never from the Node's labels, which it does not need to trust).

use ironroot_api::TrustState;
use std::collections::BTreeMap;

/// One Node as the controller sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// `trusted` only when a host is bound to this Node by an administrator, the service
    /// is reachable, and the host's latest verdict is trusted and unexpired. A Node no host
    /// is bound to, or whose binding does not hold, reads `unknown`.
    pub trust: TrustState,
    /// The host's certified asset tags (empty when none, or no binding).
    pub tags: BTreeMap<String, String>,
    /// The bound host's id, when there is a binding.
    pub host_id: Option<String>,
    /// Why the Node is not trusted, for messages (empty when trusted).
    pub reason: String,
    /// The kubelet `podPidsLimit` the bound host's agent reported with its latest
    /// accepted evidence (`None`: no binding, or none reported). A conformance fact the
    /// node states about itself, not covered by its attestation.
    pub pod_pids_limit: Option<i64>,
}

impl NodeView {
    /// A Node the controller knows nothing about.
    pub fn unknown(reason: impl Into<String>) -> NodeView {
        NodeView {
            trust: TrustState::Unknown,
            tags: BTreeMap::new(),
            host_id: None,
            reason: reason.into(),
            pod_pids_limit: None,
        }
    }

    /// Whether a workload that needs `required` tags (and trust) may run here.
    pub fn admits(&self, required: &BTreeMap<String, String>) -> bool {
        self.trust == TrustState::Trusted
            && required.iter().all(|(k, v)| self.tags.get(k) == Some(v))
    }
}

/// Where the webhook reads Node views from (the controller's state; a fixed map in tests).
pub trait NodeViews: Send + Sync + 'static {
    fn view(&self, node: &str) -> NodeView;
}
