//! Flavors: the known-good measurements of one part of a host, as ISecL-DC defines them.
//! These types are also the flavor import/export file format, so they reject unknown fields:
//! a misspelt key must not silently drop a check.

use crate::rule_id::RuleId;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which part of the host a flavor describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlavorPart {
    /// Firmware and its configuration (PCRs 0-3, 7).
    Platform,
    /// Boot loader, kernel and initrd.
    Os,
    /// Measurements that differ from host to host (kernel command line).
    HostUnique,
    /// Files measured by IMA at run time.
    Software,
    /// The asset tag provisioned into the host's TPM.
    AssetTag,
}

impl FlavorPart {
    /// Parts whose flavors belong to one host and must never be applied to another.
    pub const fn is_host_bound(self) -> bool {
        matches!(self, FlavorPart::HostUnique | FlavorPart::AssetTag)
    }

    pub const ALL: [FlavorPart; 5] = [
        FlavorPart::Platform,
        FlavorPart::Os,
        FlavorPart::HostUnique,
        FlavorPart::Software,
        FlavorPart::AssetTag,
    ];

    /// Parses a part name as written in flavors (`HOST_UNIQUE`), ignoring case.
    pub fn parse(s: &str) -> Option<FlavorPart> {
        FlavorPart::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    pub const fn name(self) -> &'static str {
        match self {
            FlavorPart::Platform => "PLATFORM",
            FlavorPart::Os => "OS",
            FlavorPart::HostUnique => "HOST_UNIQUE",
            FlavorPart::Software => "SOFTWARE",
            FlavorPart::AssetTag => "ASSET_TAG",
        }
    }
}

impl std::fmt::Display for FlavorPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorMeta {
    pub label: String,
    pub part: FlavorPart,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub description: String,
    /// Creation time, unix seconds; the `latest` match policy picks the highest.
    pub created: u64,
    /// The one host a HOST_UNIQUE or ASSET_TAG flavor belongs to. Such a flavor without a
    /// host applies to no host at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    pub id: Uuid,
    pub meta: FlavorMeta,
    /// All must pass for the flavor to match. A flavor with no rules never matches.
    pub rules: Vec<Rule>,
}

/// One event of the boot event log as a flavor expects it. Only `event_type` and `digest`
/// are compared; `description` is there for the people reading flavors and faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvent {
    /// The spec's name, e.g. `EV_EFI_BOOT_SERVICES_APPLICATION`.
    pub event_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub description: String,
}

/// A check a flavor makes against the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Rule {
    /// The quoted PCR has exactly this value.
    PcrMatches {
        bank: HashAlg,
        index: u32,
        value: Digest,
    },
    /// The log's events for this PCR, without `excluding_types` and EV_NO_ACTION, are
    /// exactly `events`, in order.
    EventLogEquals {
        bank: HashAlg,
        index: u32,
        events: Vec<ExpectedEvent>,
        #[serde(default)]
        excluding_types: Vec<String>,
    },
    /// Every one of `events` appears among the log's events for this PCR.
    EventLogIncludes {
        bank: HashAlg,
        index: u32,
        events: Vec<ExpectedEvent>,
    },
    /// Every IMA measurement (PCR 10) of a listed path has an allowed digest, and every
    /// listed path was measured. Paths not listed are not checked.
    ImaFiles {
        hash: HashAlg,
        files: BTreeMap<String, Vec<Digest>>,
    },
    /// The asset-tag digest the quote covered (see `HostInfo::asset_tag`) is `digest`:
    /// SHA-256 of the tag certificate the service issued for this host.
    AssetTagMatches { digest: Digest },
}

impl Rule {
    /// The rule's identity in trust reports; its name is the serde tag.
    pub const fn id(&self) -> RuleId {
        match self {
            Rule::PcrMatches { .. } => RuleId::PcrMatches,
            Rule::EventLogEquals { .. } => RuleId::EventLogEquals,
            Rule::EventLogIncludes { .. } => RuleId::EventLogIncludes,
            Rule::ImaFiles { .. } => RuleId::ImaFiles,
            Rule::AssetTagMatches { .. } => RuleId::AssetTagMatches,
        }
    }

    /// The short name used in trust reports (the serde tag).
    pub const fn name(&self) -> &'static str {
        self.id().as_str()
    }

    /// What the rule looks at, for reports: `PCR 7 (sha256)`, `3 files (sha256)`.
    pub fn subject(&self) -> String {
        match self {
            Rule::PcrMatches { bank, index, .. }
            | Rule::EventLogEquals { bank, index, .. }
            | Rule::EventLogIncludes { bank, index, .. } => format!("PCR {index} ({bank})"),
            Rule::ImaFiles { hash, files } => format!("{} files ({hash})", files.len()),
            Rule::AssetTagMatches { .. } => "asset tag".to_string(),
        }
    }
}
