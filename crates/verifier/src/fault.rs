//! Faults: why a rule did not pass, in a form both a program and a platform engineer can read.

use crate::flavor::ExpectedEvent;
use ironroot_crypto::HashAlg;
use serde::{Deserialize, Serialize};

/// The machine-readable kind of a fault. Names follow ISecL-DC's where one exists, so
/// operators who know that system recognise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FaultName {
    /// A quoted PCR differs from the value a flavor expects.
    PcrValueMismatch,
    /// A PCR a rule or the event log needs is not in the quote.
    PcrValueMissing,
    /// A flavor needs the boot event log and the evidence has none.
    EventLogMissing,
    /// Replaying the event log does not give the quoted PCR value: the log was altered.
    EventLogReplayMismatch,
    EventLogContainsUnexpectedEntries,
    EventLogMissingExpectedEntries,
    /// The log holds the expected entries, but not in the expected order.
    EventLogOrderMismatch,
    /// A flavor needs the IMA list and the evidence has none.
    ImaLogMissing,
    /// Replaying the IMA list does not give the quoted PCR value: the list was altered.
    ImaReplayMismatch,
    /// A file was measured with a digest the flavor does not allow.
    ImaFileDigestMismatch,
    /// A file the flavor lists was never measured.
    ImaFileMissing,
    /// A policy requires flavors of a part and the group has none for this host.
    RequiredFlavorTypeMissing,
    /// Under an all_of policy, at least one flavor did not match.
    AllOfFlavorsMissing,
    /// Under an any_of or latest policy, no flavor matched.
    NoFlavorMatched,
    /// The flavor group has no match policies, so nothing could make the host trusted.
    NoMatchPolicy,
    /// Every match policy passed without a single flavor rule being evaluated (each was
    /// REQUIRED_IF_DEFINED and the group holds no flavors of its part for the host):
    /// nothing was checked, so nothing vouches for the host.
    NoRulesEvaluated,
    /// A flavor or rule has nothing to check (no rules, an empty allow-list).
    EmptyRule,
    /// A rule this version cannot evaluate.
    RuleNotSupported,
    /// The asset tag the quote covered is not the one provisioned for the host (or the
    /// node presented none).
    AssetTagMismatch,
    /// The quote itself was rejected (signature, nonce, signer or PCR digest): nothing
    /// the node says can be believed.
    QuoteInvalid,
    /// The event log or IMA list could not be parsed (truncated, oversized, malformed,
    /// an unknown event type).
    EvidenceMalformed,
    /// The TPM clock went backwards without a reboot: a replayed quote or a tampered TPM.
    ClockWentBackwards,
}

/// Why a rule failed: what was expected and what the evidence showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub name: FaultName,
    /// One sentence for a human, naming the PCR, file or event and both values.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<HashAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcr_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_entries: Vec<ExpectedEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unexpected_entries: Vec<ExpectedEvent>,
    /// The file path, for IMA faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Fault {
    /// A fault with only a name and a description; the builder methods add the rest.
    pub fn new(name: FaultName, description: impl Into<String>) -> Self {
        Fault {
            name,
            description: description.into(),
            bank: None,
            pcr_index: None,
            expected: None,
            actual: None,
            missing_entries: Vec::new(),
            unexpected_entries: Vec::new(),
            path: None,
        }
    }

    pub fn at(mut self, bank: HashAlg, pcr_index: u32) -> Self {
        self.bank = Some(bank);
        self.pcr_index = Some(pcr_index);
        self
    }

    pub fn values(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}
