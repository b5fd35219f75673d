//! The policy set as written (YAML or JSON): serde types with `deny_unknown_fields`, so a
//! misspelt field is an error and never a silently ignored rule. Nothing here is trusted
//! yet: `load` turns these documents into a validated [`crate::PolicySet`].

use ironroot_severity::Severity;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The document: a revision number and the policies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicySetDoc {
    pub version: u64,
    /// Kept as JSON values until each policy is read on its own, so an error can name the
    /// policy's id.
    pub policies: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyDoc {
    pub id: String,
    pub description: String,
    pub severity: Severity,
    pub mode: Mode,
    #[serde(default)]
    pub scope: ScopeDoc,
    pub remediation: Remediation,
    #[serde(default)]
    pub failure: Failure,
    pub rule: RuleDoc,
}

/// Whether a violation may block: `audit` only reports, `enforce` applies the remediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Audit,
    Enforce,
}

/// What answers a violation: refuse the pod, taint or drain the node (through the
/// controller), or only raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Remediation {
    Deny,
    Taint,
    Drain,
    Alert,
}

impl Remediation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Remediation::Deny => "deny",
            Remediation::Taint => "taint",
            Remediation::Drain => "drain",
            Remediation::Alert => "alert",
        }
    }
}

/// What the webhook does when the policy cannot decide (a fact is missing): `open`
/// admits, `closed` refuses. Open by default, so an outage of a fact source never takes a
/// cluster's workloads down unless the policy's author chose that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Failure {
    #[default]
    Open,
    Closed,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeDoc {
    #[serde(default)]
    pub clusters: SelectionDoc,
    #[serde(default)]
    pub namespaces: SelectionDoc,
    #[serde(default)]
    pub exclusions: Vec<ExclusionDoc>,
}

/// `all`, or a list of names (patterns with `*`).
#[derive(Debug, Default)]
pub(crate) enum SelectionDoc {
    #[default]
    All,
    Names(Vec<String>),
}

impl<'de> Deserialize<'de> for SelectionDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SelectionDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`all` or a list of names")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SelectionDoc, E> {
                if s == "all" {
                    Ok(SelectionDoc::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(s), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SelectionDoc, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                Ok(SelectionDoc::Names(names))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExclusionDoc {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub reason: String,
    /// RFC 3339; an expired exclusion no longer excludes.
    pub expires: String,
}

/// The rule: one built-in with its parameters, or Rego. Written as a map with one key,
/// `rule: { image-signed: { trusted_keys: [...] } }`, so each variant's parameters are a
/// struct of their own with `deny_unknown_fields`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RuleDoc {
    NodeTrusted(Empty),
    WorkloadEncrypted(Empty),
    PipelineBuiltWithEncryptionPolicy(Empty),
    ImageSigned(ImageSignedDoc),
    ImageScanned(ImageScannedDoc),
    NoPrivileged(Empty),
    RunAsNonRoot(Empty),
    ReadOnlyRootFilesystem(Empty),
    ResourceLimits(ResourceLimitsDoc),
    NodePidLimit(NodePidLimitDoc),
    ApprovedRegistries(ApprovedRegistriesDoc),
    RegionPlacement(Empty),
    PodSecurity(PodSecurityDoc),
    Rego(RegoDoc),
}

/// A rule without parameters: `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImageSignedDoc {
    pub trusted_keys: Vec<String>,
    #[serde(default = "yes")]
    pub require_digest: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImageScannedDoc {
    pub threshold: Severity,
    pub max_age: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceLimitsDoc {
    #[serde(default = "yes")]
    pub cpu: bool,
    #[serde(default = "yes")]
    pub memory: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodePidLimitDoc {
    pub max: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovedRegistriesDoc {
    pub registries: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PodSecurityDoc {
    pub level: crate::pss::Level,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegoDoc {
    pub module: String,
    pub query: String,
}
