//! What the verifier evaluates: PCR values a verified quote proved, plus the logs that
//! claim to explain them, plus facts about the host.

use ironroot_evidence::{EventLog, ImaLog};
use ironroot_tpm_wire::Digest;
use ironroot_tpm_wire::PcrValues;
use serde::{Deserialize, Serialize};

/// Evidence from one attestation. `quoted` must come from a quote whose signature and
/// nonce were already checked; the logs are untrusted until replayed against it.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub quoted: PcrValues,
    pub event_log: Option<EventLog>,
    pub ima: Option<ImaLog>,
    pub host: HostInfo,
}

/// Facts about the host that come with the quote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    /// Stable identity of the host (hardware UUID or the id given at registration).
    pub host_id: String,
    #[serde(default)]
    pub hostname: String,
    /// TPM resetCount from the quote's clock info: goes up on every reboot.
    pub reset_count: u32,
    /// TPM restartCount: goes up on resume from hibernation, back to 0 on reboot.
    pub restart_count: u32,
    /// TPM clock in milliseconds from the quote's clock info.
    #[serde(default)]
    pub clock_ms: u64,
    /// Platform vendor, copied into flavors made from this host.
    #[serde(default)]
    pub vendor: String,
    /// The asset-tag digest the quote covered (folded into its nonce), or `None` when
    /// the node presented no tag. Set only by a caller that checked the quote's nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<Digest>,
}
