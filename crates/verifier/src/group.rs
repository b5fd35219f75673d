//! Flavor groups and their match policies: which flavors of each part must match for a
//! host to be trusted.

use crate::flavor::FlavorPart;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchType {
    /// At least one flavor of the part matches.
    AnyOf,
    /// Every flavor of the part matches.
    AllOf,
    /// The newest flavor of the part (highest `created`) matches. If several share that
    /// time, all of them must match: the newest is ambiguous, so we take the strict reading.
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Required {
    /// The group must hold flavors of this part for the host, or the host is untrusted.
    Required,
    /// If the group holds no flavors of this part for the host, there is nothing to check.
    RequiredIfDefined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchPolicy {
    pub part: FlavorPart,
    pub match_type: MatchType,
    pub required: Required,
}

/// How often the group's hosts attest, and how long a trusted verdict outlives a missed
/// attestation. A trusted verdict's deadline is `interval + grace` after it was made;
/// past it the host is expired (untrusted) until it attests again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub interval_secs: u64,
    pub grace_secs: u64,
}

/// Bounds on a schedule: at least once a day, and no verdict valid for more than two.
pub const MAX_INTERVAL_SECS: u64 = 86_400;
pub const MAX_GRACE_SECS: u64 = 86_400;

impl Schedule {
    /// How long a trusted verdict stays valid.
    pub fn validity_secs(&self) -> u64 {
        self.interval_secs.saturating_add(self.grace_secs)
    }

    /// Refuses schedules that cannot be kept or would keep trust alive too long.
    pub fn check(&self) -> Result<(), String> {
        if self.interval_secs == 0 || self.interval_secs > MAX_INTERVAL_SECS {
            return Err(format!(
                "interval_secs must be 1 to {MAX_INTERVAL_SECS}, not {}",
                self.interval_secs
            ));
        }
        if self.grace_secs == 0 || self.grace_secs > MAX_GRACE_SECS {
            return Err(format!(
                "grace_secs must be 1 to {MAX_GRACE_SECS} (a deadline needs room for one late attestation), not {}",
                self.grace_secs
            ));
        }
        Ok(())
    }
}

/// Why a group cannot be used: it could never vouch for a host by checking something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    #[error("it has no match policies, so it would trust nobody")]
    NoPolicy,
    #[error(
        "every match policy is REQUIRED_IF_DEFINED, so the group can never require a flavor: \
         without flavors it would check nothing; make at least one policy REQUIRED"
    )]
    NothingRequired,
}

/// A named set of match policies, and optionally its own attestation schedule (else the
/// service's defaults apply). Flavors of a part that has no policy are not evaluated;
/// a group without any policy makes every host untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorGroup {
    pub name: String,
    pub policies: Vec<MatchPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

impl FlavorGroup {
    /// Refuses a group that can never require a rule: one without policies, or whose
    /// every policy is REQUIRED_IF_DEFINED (holding no flavors, it would evaluate nothing;
    /// [`crate::verify`] makes such a host untrusted, and this keeps the group from being
    /// saved at all).
    pub fn check(&self) -> Result<(), GroupError> {
        if self.policies.is_empty() {
            return Err(GroupError::NoPolicy);
        }
        if self
            .policies
            .iter()
            .all(|p| p.required == Required::RequiredIfDefined)
        {
            return Err(GroupError::NothingRequired);
        }
        Ok(())
    }

    /// ISecL-DC's `automatic` group: PLATFORM and OS any_of + required; HOST_UNIQUE and
    /// ASSET_TAG latest + required_if_defined; SOFTWARE (ISecL's IMA) all_of +
    /// required_if_defined.
    pub fn default_group(name: impl Into<String>) -> Self {
        use FlavorPart as P;
        use MatchType as M;
        use Required as R;
        let p = |part, match_type, required| MatchPolicy {
            part,
            match_type,
            required,
        };
        FlavorGroup {
            name: name.into(),
            policies: vec![
                p(P::Platform, M::AnyOf, R::Required),
                p(P::Os, M::AnyOf, R::Required),
                p(P::HostUnique, M::Latest, R::RequiredIfDefined),
                p(P::Software, M::AllOf, R::RequiredIfDefined),
                p(P::AssetTag, M::Latest, R::RequiredIfDefined),
            ],
            schedule: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_bounded_and_optional_in_json() {
        let s = Schedule {
            interval_secs: 10,
            grace_secs: 20,
        };
        assert_eq!(s.validity_secs(), 30);
        assert!(s.check().is_ok());
        for (i, g) in [
            (0, 5),
            (5, 0),
            (MAX_INTERVAL_SECS + 1, 5),
            (5, MAX_GRACE_SECS + 1),
        ] {
            let bad = Schedule {
                interval_secs: i,
                grace_secs: g,
            };
            assert!(bad.check().is_err(), "{bad:?}");
        }
        let old: FlavorGroup = serde_json::from_str(r#"{"name":"g","policies":[]}"#).unwrap();
        assert_eq!(
            old.schedule, None,
            "groups stored before schedules still load"
        );
        let json = serde_json::to_string(&FlavorGroup::default_group("a")).unwrap();
        assert!(!json.contains("schedule"));
    }

    #[test]
    fn a_group_that_can_never_require_a_rule_is_refused() {
        let policy = |part, required| MatchPolicy {
            part,
            match_type: MatchType::AnyOf,
            required,
        };
        let group = |policies| FlavorGroup {
            name: "g".into(),
            policies,
            schedule: None,
        };
        assert_eq!(group(vec![]).check(), Err(GroupError::NoPolicy));
        let lax = group(vec![
            policy(FlavorPart::Platform, Required::RequiredIfDefined),
            policy(FlavorPart::Software, Required::RequiredIfDefined),
        ]);
        assert_eq!(lax.check(), Err(GroupError::NothingRequired));
        let one_required = group(vec![
            policy(FlavorPart::Platform, Required::Required),
            policy(FlavorPart::Software, Required::RequiredIfDefined),
        ]);
        assert_eq!(one_required.check(), Ok(()));
        assert_eq!(FlavorGroup::default_group("automatic").check(), Ok(()));
    }
}
