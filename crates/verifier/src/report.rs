//! The trust report: the verdict and every rule result behind it. Serialised as JSON and
//! signed elsewhere (the service signs it as a JWS).

use crate::fault::Fault;
use crate::flavor::{Flavor, FlavorPart};
use crate::rule_id::RuleId;
use ironroot_tpm_wire::PcrValues;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The outcome of one rule: a flavor's rule, a built-in integrity rule, or a match policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleResult {
    /// The rule, serialised as its short name: a flavor rule's tag (`pcr_matches`),
    /// `event_log_integrity`, `ima_log_integrity`, `flavor` (a flavor as a whole),
    /// `match_policy`, or one the service checks before the logs (`quote`).
    pub rule: RuleId,
    /// What a flavor rule looks at (`PCR 7 (sha256)`), so passing results read clearly too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<FlavorPart>,
    pub trusted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
}

impl RuleResult {
    /// A result that is trusted exactly when it has no faults.
    pub(crate) fn builtin(rule: RuleId, faults: Vec<Fault>) -> Self {
        RuleResult {
            rule,
            subject: None,
            flavor_id: None,
            flavor_label: None,
            part: None,
            trusted: faults.is_empty(),
            faults,
        }
    }

    pub(crate) fn for_flavor(
        rule: RuleId,
        subject: Option<String>,
        flavor: &Flavor,
        faults: Vec<Fault>,
    ) -> Self {
        RuleResult {
            subject,
            flavor_id: Some(flavor.id),
            flavor_label: Some(flavor.meta.label.clone()),
            part: Some(flavor.meta.part),
            ..RuleResult::builtin(rule, faults)
        }
    }

    pub(crate) fn for_policy(part: FlavorPart, faults: Vec<Fault>) -> Self {
        RuleResult {
            part: Some(part),
            ..RuleResult::builtin(RuleId::MatchPolicy, faults)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustReport {
    pub host_id: String,
    #[serde(default)]
    pub hostname: String,
    pub trusted: bool,
    /// Unix seconds when the report was made.
    pub created: u64,
    /// Unix seconds after which the report must not be relied on.
    pub expires: u64,
    /// Name of the flavor group the host was evaluated against.
    pub group: String,
    pub results: Vec<RuleResult>,
    /// The PCR values the quote proved, so an operator can compare them with flavors.
    pub quoted_pcrs: PcrValues,
    pub reset_count: u32,
    pub restart_count: u32,
    /// The host's asset tags, present only when the quote covered the digest of the
    /// host's current tag certificate (set by the service after verification).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub asset_tags: std::collections::BTreeMap<String, String>,
}

impl TrustReport {
    /// Every fault of every failed result, with the result it belongs to.
    pub fn failed_faults(&self) -> impl Iterator<Item = (&RuleResult, &Fault)> {
        self.results
            .iter()
            .filter(|r| !r.trusted)
            .flat_map(|r| r.faults.iter().map(move |f| (r, f)))
    }

    /// Whether the report vouches for the host at `now`: trusted and not expired.
    pub fn is_trusted_at(&self, now: u64) -> bool {
        self.trusted && now >= self.created && now < self.expires
    }
}
