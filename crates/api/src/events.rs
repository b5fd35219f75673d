//! Trust changes as events, streamed to subscribers (the Kubernetes controller, the
//! dashboard, the key broker) at `GET /v1/events` as server-sent events.

use crate::TrustState;
use serde::{Deserialize, Serialize};

/// A host's trust changed. `report_jws` is the signed report behind the change (absent
/// for a deadline expiry, which no report records: the absence of one is the reason).
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
