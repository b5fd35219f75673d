//! A node's trust as a state machine: the four states the service records and
//! announces, the inputs that move them, and the moves that are refused.
//!
//! The states travel as their names (`trusted`, `untrusted`, `unknown`, `expired`) in the
//! database, on the wire and in trust events; [`TrustState::next`] is the only place that
//! says which change an input makes.

use serde::{Deserialize, Serialize};

/// A node's trust as recorded by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    /// Its latest attestation passed, and its deadline has not passed.
    Trusted,
    /// Its latest attestation failed.
    Untrusted,
    /// Enrolled, never attested: not judged yet (which is not the same as untrusted).
    Unknown,
    /// It was trusted, and no passing attestation came before the deadline.
    Expired,
}

/// What moves a node's trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustInput {
    /// An attestation produced a trusted report.
    Passed,
    /// An attestation produced an untrusted report (a rejected quote included).
    Failed,
    /// The trusted verdict's deadline passed with no passing attestation since.
    DeadlinePassed,
}

impl TrustInput {
    /// The input an attestation's verdict makes.
    pub const fn from_verdict(trusted: bool) -> TrustInput {
        if trusted {
            TrustInput::Passed
        } else {
            TrustInput::Failed
        }
    }
}

/// A change [`TrustState::next`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("trust cannot change from {} on {input:?}", from.as_str())]
pub struct IllegalTrustTransition {
    pub from: TrustState,
    pub input: TrustInput,
}

impl TrustState {
    /// The state of a node that was just enrolled.
    pub const INITIAL: TrustState = TrustState::Unknown;

    pub const ALL: [TrustState; 4] = [
        TrustState::Trusted,
        TrustState::Untrusted,
        TrustState::Unknown,
        TrustState::Expired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TrustState::Trusted => "trusted",
            TrustState::Untrusted => "untrusted",
            TrustState::Unknown => "unknown",
            TrustState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<TrustState> {
        TrustState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The transition function. Every verdict decides afresh, whatever came before; only
    /// a trusted node can expire, because only a trusted verdict has a deadline.
    pub const fn next(self, input: TrustInput) -> Result<TrustState, IllegalTrustTransition> {
        match (self, input) {
            (_, TrustInput::Passed) => Ok(TrustState::Trusted),
            (_, TrustInput::Failed) => Ok(TrustState::Untrusted),
            (TrustState::Trusted, TrustInput::DeadlinePassed) => Ok(TrustState::Expired),
            (from, input) => Err(IllegalTrustTransition { from, input }),
        }
    }

    /// The state as read at `now`: a trusted state whose deadline (`None`: unknown) has
    /// passed reads as expired even before the sweeper records it (fail closed).
    pub fn as_of(self, deadline: Option<u64>, now: u64) -> TrustState {
        match self {
            TrustState::Trusted if deadline.is_none_or(|d| d <= now) => TrustState::Expired,
            other => other,
        }
    }
}

impl std::fmt::Display for TrustState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::TrustInput::{DeadlinePassed, Failed, Passed};
    use super::TrustState::{Expired, Trusted, Unknown, Untrusted};
    use super::*;

    fn ok(from: TrustState, input: TrustInput, to: TrustState) {
        assert_eq!(from.next(input), Ok(to), "{from} on {input:?}");
    }

    fn refused(from: TrustState, input: TrustInput) {
        assert_eq!(
            from.next(input),
            Err(IllegalTrustTransition { from, input }),
            "{from} on {input:?}"
        );
    }

    #[test]
    fn unknown_passes_to_trusted() {
        ok(Unknown, Passed, Trusted);
    }

    #[test]
    fn unknown_fails_to_untrusted() {
        ok(Unknown, Failed, Untrusted);
    }

    #[test]
    fn trusted_passes_and_stays_trusted() {
        ok(Trusted, Passed, Trusted);
    }

    #[test]
    fn trusted_fails_to_untrusted() {
        ok(Trusted, Failed, Untrusted);
    }

    #[test]
    fn trusted_expires_at_its_deadline() {
        ok(Trusted, DeadlinePassed, Expired);
    }

    #[test]
    fn untrusted_passes_to_trusted() {
        ok(Untrusted, Passed, Trusted);
    }

    #[test]
    fn untrusted_fails_and_stays_untrusted() {
        ok(Untrusted, Failed, Untrusted);
    }

    #[test]
    fn expired_passes_to_trusted() {
        ok(Expired, Passed, Trusted);
    }

    #[test]
    fn expired_fails_to_untrusted() {
        ok(Expired, Failed, Untrusted);
    }

    /// Only a trusted verdict has a deadline: an unknown node is not judged yet (unknown
    /// is not untrusted), an untrusted one is already denied, an expired one expired once.
    #[test]
    fn only_a_trusted_node_can_expire() {
        refused(Unknown, DeadlinePassed);
        refused(Untrusted, DeadlinePassed);
        refused(Expired, DeadlinePassed);
        let illegal = Expired.next(DeadlinePassed).unwrap_err();
        assert_eq!(
            illegal.to_string(),
            "trust cannot change from expired on DeadlinePassed"
        );
    }

    #[test]
    fn a_new_node_is_unknown_and_verdicts_map_to_inputs() {
        assert_eq!(TrustState::INITIAL, Unknown);
        assert_eq!(TrustInput::from_verdict(true), Passed);
        assert_eq!(TrustInput::from_verdict(false), Failed);
    }

    /// The names are the database's and the wire's: changing one is a migration.
    #[test]
    fn states_keep_their_stored_and_wire_names() {
        for (s, name) in [
            (Trusted, "trusted"),
            (Untrusted, "untrusted"),
            (Unknown, "unknown"),
            (Expired, "expired"),
        ] {
            assert_eq!(s.as_str(), name);
            assert_eq!(TrustState::parse(name), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap_or_default(),
                format!("\"{name}\"")
            );
        }
        assert_eq!(TrustState::parse("Trusted"), None);
    }

    #[test]
    fn a_trusted_state_past_its_deadline_reads_as_expired() {
        assert_eq!(Trusted.as_of(Some(100), 99), Trusted);
        assert_eq!(Trusted.as_of(Some(100), 100), Expired);
        assert_eq!(Trusted.as_of(None, 0), Expired);
        assert_eq!(Untrusted.as_of(None, 0), Untrusted);
        assert_eq!(Unknown.as_of(Some(1), 5), Unknown);
    }
}
