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

/// A named set of match policies. Flavors of a part that has no policy are not evaluated;
/// a group without any policy makes every host untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorGroup {
    pub name: String,
    pub policies: Vec<MatchPolicy>,
}

impl FlavorGroup {
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
        }
    }
}
