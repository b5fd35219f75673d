//! Workload↔node records on the wire (docs/audit.md, `workload.bound`): a cluster's
//! controller reports, in batches, each pod it saw bound to a Node with the digests of
//! the images its containers run; the hub logs each one with the trust of the host bound
//! to that Node at receipt.
//!
//! Route: a cluster (its client certificate): `POST /v1/cluster/workloads`
//! ([`WorkloadBatch`] → [`WorkloadReceipt`]).

use serde::{Deserialize, Serialize};

/// The most records in one batch.
pub const MAX_WORKLOAD_BATCH: usize = 500;
/// The most containers (init, regular and ephemeral) one record names.
pub const MAX_WORKLOAD_IMAGES: usize = 32;
/// The longest image reference a record carries, in bytes.
pub const MAX_IMAGE_REF: usize = 512;
/// The longest pod UID, in bytes (a UUID is 36).
pub const MAX_POD_UID: usize = 64;

/// One container's image, as its status reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadImage {
    /// The container's name (a DNS-1123 label).
    pub container: String,
    /// The image reference the container runs (`status.containerStatuses[].image`).
    pub image: String,
    /// The digest the kubelet resolved it to (`sha256:<64 hex>` or `sha512:<128 hex>`,
    /// from `imageID`); `None` while the runtime has not reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One pod bound to one Node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadBinding {
    pub namespace: String,
    pub pod: String,
    /// `metadata.uid`: tells apart two pods of one name at different times.
    pub uid: String,
    /// `spec.nodeName`.
    pub node: String,
    /// At most [`MAX_WORKLOAD_IMAGES`].
    #[serde(default)]
    pub images: Vec<WorkloadImage>,
    /// When the controller saw the pod bound (unix seconds, the cluster's clock).
    pub at: u64,
}

/// `POST /v1/cluster/workloads`: at most [`MAX_WORKLOAD_BATCH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadBatch {
    pub workloads: Vec<WorkloadBinding>,
}

/// The answer: how many records were logged, and how many of them named a Node no host
/// is bound to (logged with an unknown trust, never refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadReceipt {
    pub recorded: u64,
    pub unbound: u64,
}

/// The digest in a container status's `imageID` (`docker-pullable://repo@sha256:…`,
/// `repo@sha256:…` or a bare `sha256:…`), when it holds a well-formed one.
pub fn image_digest(image_id: &str) -> Option<&str> {
    let d = image_id.rsplit('@').next().unwrap_or(image_id);
    let d = d.rsplit("//").next().unwrap_or(d);
    is_image_digest(d).then_some(d)
}

/// Whether `d` is `sha256:` and 64 lowercase hex digits, or `sha512:` and 128.
pub fn is_image_digest(d: &str) -> bool {
    let (alg, hex) = d.split_once(':').unwrap_or(("", ""));
    let want = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_found_in_each_form_the_kubelet_reports_and_nothing_else_passes() {
        let h = "a".repeat(64);
        let d = format!("sha256:{h}");
        assert_eq!(image_digest(&d), Some(d.as_str()));
        assert_eq!(
            image_digest(&format!("docker.io/library/nginx@{d}")),
            Some(d.as_str())
        );
        assert_eq!(
            image_digest(&format!("docker-pullable://nginx@{d}")),
            Some(d.as_str())
        );
        assert_eq!(image_digest(""), None);
        assert_eq!(image_digest("registry.local:5000/app:1"), None);
        assert_eq!(image_digest(&format!("sha256:{}", "A".repeat(64))), None);
        assert_eq!(image_digest(&format!("sha256:{}", "a".repeat(63))), None);
        assert_eq!(image_digest(&format!("md5:{}", "a".repeat(32))), None);
        assert!(is_image_digest(&format!("sha512:{}", "0".repeat(128))));
    }
}
