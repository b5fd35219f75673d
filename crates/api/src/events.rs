//! Trust changes as events, streamed to subscribers (the Kubernetes controller, the
//! dashboard, the key broker) at `GET /v1/events` as server-sent events.

use crate::TrustState;
use serde::{Deserialize, Serialize};

/// A host's trust changed. `report_jws` is the signed report behind the change (absent
/// for a deadline expiry, which no report records: the absence of one is the reason).
///
/// An event whose `previous` equals `trust` changes no trust: it says "this host's
/// published facts changed, re-read it" (`GET /v1/nodes/{host_id}`). The service writes
/// one, in the same transaction as the change, when an administrator binds the host to a
/// Kubernetes Node or unbinds it (or deletes a bound host), and when its asset tags are
/// issued or revoked, and when the kubelet `podPidsLimit` its agent reports changes;
/// `reasons` holds one line saying which, and `report_*` are absent.
/// A subscriber that counts trust changes must skip these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustEvent {
    pub host_id: String,
    pub hostname: String,
    /// The state before the change.
    pub previous: TrustState,
    /// The state now.
    pub trust: TrustState,
    /// Unix seconds, by the service's clock.
    pub at: u64,
    pub report_id: Option<String>,
    pub report_jws: Option<String>,
    /// One line per failed rule, or why trust expired.
    pub reasons: Vec<String>,
}
