//! What a decision is made from: the pod, where it is, and the facts the caller gathered
//! (the webhook or the background audit: registry, broker, signatures, scans, the node).
//! Every fact is an `Option`: `None` is "not known", which a rule answers with
//! [`crate::Verdict::Unknown`], never with "no".

use ironroot_api::TrustState;
use ironroot_severity::Severity;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One admission (or audit) question.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Input<'a> {
    pub pod: &'a Pod,
    pub namespace: &'a str,
    pub cluster: &'a str,
    pub facts: &'a Facts,
}

/// Facts about the pod's images, the keys that seal them and the node it is bound to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// By image reference, exactly as the pod spells it.
    #[serde(default)]
    pub images: BTreeMap<String, ImageFacts>,
    /// By broker key id.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyFacts>,
    /// The node the pod is bound to (`spec.nodeName`), when it is.
    #[serde(default)]
    pub node: Option<NodeFacts>,
}

/// What is known about one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFacts {
    /// The manifest digest the reference resolves to (`sha256:...`).
    #[serde(default)]
    pub digest: Option<String>,
    /// Every layer, in order.
    #[serde(default)]
    pub layers: Option<Vec<LayerFacts>>,
    #[serde(default)]
    pub signature: Option<SignatureFact>,
    /// Whether the image carries the build pipeline's signature.
    #[serde(default)]
    pub pipeline_signed: Option<bool>,
    #[serde(default)]
    pub scan: Option<ScanSummary>,
}

/// One layer: whether ocicrypt encrypted it, and under which broker keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerFacts {
    pub digest: String,
    pub encrypted: bool,
    /// The ironroot broker keys its layer key is sealed under (empty: none of ours).
    #[serde(default)]
    pub key_ids: Vec<String>,
}

/// A broker key as the broker describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFacts {
    /// The broker holds the key.
    pub exists: bool,
    /// The key has a transfer policy (it is released only to nodes that satisfy it).
    pub transfer_policy: bool,
    /// Asset tags a node must carry to receive the key (`region=eu`).
    #[serde(default)]
    pub required_tags: BTreeMap<String, String>,
}

/// The signature verdict on an image (the `signing` crate's verdict, as its outcome).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase", deny_unknown_fields)]
pub enum SignatureFact {
    /// A signature by this trusted key counts for the image.
    Signed { key_id: String },
    /// No signature was found.
    Unsigned,
    /// Signatures were found and none counts, for this reason.
    Invalid { reason: String },
}

/// The image's latest scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSummary {
    /// The highest severity among findings with no fix applied; `None`: no such finding.
    pub highest_unfixed: Option<Severity>,
    /// Unix seconds.
    pub scanned_at: u64,
}

/// The node the pod is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFacts {
    pub name: String,
    #[serde(default)]
    pub trust: Option<TrustState>,
    #[serde(default)]
    pub certified_tags: Option<BTreeMap<String, String>>,
    /// The kubelet's `podPidsLimit` (no pod field carries it; -1 or 0: unlimited).
    #[serde(default)]
    pub pod_pids_limit: Option<i64>,
}
