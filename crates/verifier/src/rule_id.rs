//! Rule identities: every rule a trust report can name, as a typed value with a kind,
//! so that callers ask `rule.is_log_integrity()` instead of matching on spelling. They
//! travel as the same short names as always (`event_log_integrity`, `pcr_matches`), in
//! stored reports, signed reports and on the wire.

use serde::{Deserialize, Serialize};

/// The rule a [`crate::RuleResult`] reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleId {
    /// The quote's signature, nonce and PCR selection (checked by the service).
    Quote,
    /// The TPM's counters did not go backwards (checked by the service).
    TpmClock,
    /// The measurement logs could be parsed at all (checked by the service).
    Evidence,
    /// The boot event log replays to the quoted PCRs.
    EventLogIntegrity,
    /// The IMA list replays to the quoted PCR 10.
    ImaLogIntegrity,
    /// A flavor as a whole (one with no rules).
    Flavor,
    /// A flavor's `pcr_matches` rule.
    PcrMatches,
    /// A flavor's `event_log_equals` rule.
    EventLogEquals,
    /// A flavor's `event_log_includes` rule.
    EventLogIncludes,
    /// A flavor's `ima_files` rule.
    ImaFiles,
    /// A flavor's `asset_tag_matches` rule.
    AssetTagMatches,
    /// A flavor group's match policy for one part, or the group's policies together.
    MatchPolicy,
}

/// What a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleKind {
    /// The evidence before any flavor: the quote, the TPM's counters, the logs' syntax.
    Evidence,
    /// The built-in rules that make the logs evidence: they replay to the quote.
    LogIntegrity,
    /// A flavor's known-good values.
    Flavor,
    /// How a flavor group combines flavors.
    Policy,
}

impl RuleId {
    pub const ALL: [RuleId; 12] = [
        RuleId::Quote,
        RuleId::TpmClock,
        RuleId::Evidence,
        RuleId::EventLogIntegrity,
        RuleId::ImaLogIntegrity,
        RuleId::Flavor,
        RuleId::PcrMatches,
        RuleId::EventLogEquals,
        RuleId::EventLogIncludes,
        RuleId::ImaFiles,
        RuleId::AssetTagMatches,
        RuleId::MatchPolicy,
    ];

    /// The short name used in trust reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleId::Quote => "quote",
            RuleId::TpmClock => "tpm_clock",
            RuleId::Evidence => "evidence",
            RuleId::EventLogIntegrity => "event_log_integrity",
            RuleId::ImaLogIntegrity => "ima_log_integrity",
            RuleId::Flavor => "flavor",
            RuleId::PcrMatches => "pcr_matches",
            RuleId::EventLogEquals => "event_log_equals",
            RuleId::EventLogIncludes => "event_log_includes",
            RuleId::ImaFiles => "ima_files",
            RuleId::AssetTagMatches => "asset_tag_matches",
            RuleId::MatchPolicy => "match_policy",
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub const fn kind(self) -> RuleKind {
        match self {
            RuleId::Quote | RuleId::TpmClock | RuleId::Evidence => RuleKind::Evidence,
            RuleId::EventLogIntegrity | RuleId::ImaLogIntegrity => RuleKind::LogIntegrity,
            RuleId::Flavor
            | RuleId::PcrMatches
            | RuleId::EventLogEquals
            | RuleId::EventLogIncludes
            | RuleId::ImaFiles
            | RuleId::AssetTagMatches => RuleKind::Flavor,
            RuleId::MatchPolicy => RuleKind::Policy,
        }
    }

    /// A rule that proves a log replays to the quote: once they all pass, the logs
    /// explain the quoted PCRs.
    pub const fn is_log_integrity(self) -> bool {
        matches!(self.kind(), RuleKind::LogIntegrity)
    }

    /// The quote itself: a report that fails it proves nothing the TPM signed.
    pub const fn is_quote(self) -> bool {
        matches!(self, RuleId::Quote)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are those of every report ever stored or signed.
    #[test]
    fn rules_keep_their_report_names() {
        for r in RuleId::ALL {
            assert_eq!(RuleId::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(RuleId::EventLogIntegrity.as_str(), "event_log_integrity");
        assert_eq!(RuleId::MatchPolicy.as_str(), "match_policy");
        assert_eq!(RuleId::parse("Quote"), None);
        assert!(serde_json::from_str::<RuleId>("\"made_up\"").is_err());
    }

    #[test]
    fn log_integrity_is_exactly_the_two_replay_rules() {
        let integrity: Vec<RuleId> = RuleId::ALL
            .into_iter()
            .filter(|r| r.is_log_integrity())
            .collect();
        assert_eq!(
            integrity,
            [RuleId::EventLogIntegrity, RuleId::ImaLogIntegrity]
        );
    }

    /// `tpm_clock` and `evidence` rejections come after a quote verified; only `quote`
    /// means the TPM signed nothing the service accepted.
    #[test]
    fn only_the_quote_rule_is_the_quote() {
        let quote: Vec<RuleId> = RuleId::ALL.into_iter().filter(|r| r.is_quote()).collect();
        assert_eq!(quote, [RuleId::Quote]);
        assert_eq!(RuleId::TpmClock.kind(), RuleKind::Evidence);
        assert_eq!(RuleId::PcrMatches.kind(), RuleKind::Flavor);
        assert_eq!(RuleId::MatchPolicy.kind(), RuleKind::Policy);
    }
}
