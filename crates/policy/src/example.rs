//! The whole R10 policy set (`policies/r10.yaml`) with a pod and facts that pass every
//! policy in it: the common ground of the tests, the benchmark and the documentation.

use crate::facts::{
    Facts, ImageFacts, KeyFacts, LayerFacts, NodeFacts, ScanSummary, SignatureFact,
};
use crate::rules::TAG_PREFIX;
use ironroot_api::TrustState;
use ironroot_severity::Severity;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use std::collections::BTreeMap;

/// Every built-in rule once, and one Rego policy.
pub const R10_SET_YAML: &str = include_str!("../policies/r10.yaml");

/// The image the example pod runs.
pub const IMAGE: &str = "registry.example.com:5000/apps/web@sha256:7d3cb6b0d8e1e6b3b0c2f7f25f3e1c1d9c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f";

/// A pod in namespace `apps` that passes every policy of [`R10_SET_YAML`] (with [`facts`]),
/// bound to node `node-1`, as JSON to mutate in tests.
pub fn pod_json() -> serde_json::Value {
    json!({
        "metadata": { "name": "web-1", "namespace": "apps" },
        "spec": {
            "nodeName": "node-1",
            "nodeSelector": { format!("{TAG_PREFIX}region"): "eu" },
            "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
            "containers": [{
                "name": "app",
                "image": IMAGE,
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": { "drop": ["ALL"] },
                    "readOnlyRootFilesystem": true
                },
                "resources": { "limits": { "cpu": "500m", "memory": "256Mi" } }
            }]
        }
    })
}

/// [`pod_json`] as a Pod.
pub fn pod() -> Pod {
    serde_json::from_value(pod_json()).unwrap_or_default()
}

/// Facts that pass every policy at `now`.
pub fn facts(now: u64) -> Facts {
    let layer = |d: &str| LayerFacts {
        digest: d.into(),
        encrypted: true,
        key_ids: vec!["key-eu".into()],
    };
    let image = ImageFacts {
        digest: IMAGE.split_once('@').map(|(_, d)| d.to_owned()),
        layers: Some(vec![layer("sha256:aa"), layer("sha256:bb")]),
        signature: Some(SignatureFact::Signed {
            key_id: "release-key".into(),
        }),
        pipeline_signed: Some(true),
        scan: Some(ScanSummary {
            highest_unfixed: Some(Severity::Low),
            scanned_at: now.saturating_sub(600),
        }),
    };
    let region = BTreeMap::from([("region".to_owned(), "eu".to_owned())]);
    Facts {
        images: BTreeMap::from([(IMAGE.to_owned(), image)]),
        keys: BTreeMap::from([(
            "key-eu".to_owned(),
            KeyFacts {
                exists: true,
                transfer_policy: true,
                required_tags: region.clone(),
            },
        )]),
        node: Some(NodeFacts {
            name: "node-1".into(),
            trust: Some(TrustState::Trusted),
            certified_tags: Some(region),
            pod_pids_limit: Some(1024),
        }),
    }
}
