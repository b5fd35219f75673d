//! What the service's stored inventories say about one image, for the policy "image
//! scanned under a severity threshold" (`GET /v1/images/{digest}/summary`).

use ironroot_severity::Severity;
use serde::{Deserialize, Serialize};

/// The latest match (on submission, or the service's own rescan) of the inventory stored
/// for an image's manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageScanSummary {
    /// The manifest digest (`sha256:` and 64 lowercase hex digits).
    pub digest: String,
    /// The highest severity among its findings (every stored finding is a package at an
    /// affected version: its fix is not applied); `None`: no finding.
    pub highest_unfixed: Option<Severity>,
    /// How many findings.
    pub findings: u64,
    /// Unix seconds of that match.
    pub scanned_at: u64,
    /// The vulnerability database generation (its `updated_at`) matched against.
    pub generation: u64,
}
