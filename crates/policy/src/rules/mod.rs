//! The rules, validated: each built-in with its parameters, or a compiled Rego module.
//! `evaluate` answers one rule over one input; scope and exclusions are decided before.

mod images;
mod node;
mod workload;

use crate::facts::Input;
use crate::pss;
use crate::registry::RegistryPrefix;
use crate::rego::RegoRule;
use crate::verdict::{NotApplicable, Verdict};
use ironroot_severity::Severity;
use serde::Serialize;

/// A rule ready to evaluate.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    NodeTrusted,
    WorkloadEncrypted,
    PipelineBuiltWithEncryptionPolicy,
    ImageSigned {
        trusted_keys: Vec<String>,
        require_digest: bool,
    },
    ImageScanned {
        threshold: Severity,
        max_age_seconds: u64,
    },
    NoPrivileged,
    RunAsNonRoot,
    ReadOnlyRootFilesystem,
    ResourceLimits {
        cpu: bool,
        memory: bool,
    },
    NodePidLimit {
        max: i64,
    },
    ApprovedRegistries {
        registries: Vec<RegistryPrefix>,
    },
    RegionPlacement,
    PodSecurity {
        level: pss::Level,
        version: pss::Version,
    },
    Rego(Box<RegoRule>),
}

impl Rule {
    /// The rule's name as policies write it.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::NodeTrusted => "node-trusted",
            Rule::WorkloadEncrypted => "workload-encrypted",
            Rule::PipelineBuiltWithEncryptionPolicy => "pipeline-built-with-encryption-policy",
            Rule::ImageSigned { .. } => "image-signed",
            Rule::ImageScanned { .. } => "image-scanned",
            Rule::NoPrivileged => "no-privileged",
            Rule::RunAsNonRoot => "run-as-non-root",
            Rule::ReadOnlyRootFilesystem => "read-only-root-filesystem",
            Rule::ResourceLimits { .. } => "resource-limits",
            Rule::NodePidLimit { .. } => "node-pid-limit",
            Rule::ApprovedRegistries { .. } => "approved-registries",
            Rule::RegionPlacement => "region-placement",
            Rule::PodSecurity { .. } => "pod-security",
            Rule::Rego(_) => "rego",
        }
    }

    /// Rules about the node rather than the workload: their remediation is the node's
    /// (taint, drain, alert), never refusing a pod.
    pub fn is_node_rule(&self) -> bool {
        matches!(self, Rule::NodeTrusted | Rule::NodePidLimit { .. })
    }

    /// Only node trust may taint or drain: those act on every pod of a node.
    pub fn may_taint_or_drain(&self) -> bool {
        matches!(self, Rule::NodeTrusted)
    }

    pub(crate) fn evaluate(
        &self,
        input: &Input,
        rego_input: &mut crate::rego::LazyInput,
        now: u64,
    ) -> Verdict {
        let Some(spec) = input.pod.spec.as_ref() else {
            return Verdict::NotApplicable(NotApplicable::NothingToCheck {
                why: "the pod has no spec".into(),
            });
        };
        match self {
            Rule::NodeTrusted => node::trusted(input, spec),
            Rule::NodePidLimit { max } => node::pid_limit(input, spec, *max),
            Rule::RegionPlacement => node::region_placement(input, spec),
            Rule::WorkloadEncrypted => images::encrypted(input, spec),
            Rule::PipelineBuiltWithEncryptionPolicy => images::pipeline_built(input, spec),
            Rule::ImageSigned {
                trusted_keys,
                require_digest,
            } => images::signed(input, spec, trusted_keys, *require_digest),
            Rule::ImageScanned {
                threshold,
                max_age_seconds,
            } => images::scanned(input, spec, *threshold, *max_age_seconds, now),
            Rule::ApprovedRegistries { registries } => {
                images::approved_registries(spec, registries)
            }
            Rule::NoPrivileged => workload::no_privileged(spec),
            Rule::RunAsNonRoot => workload::run_as_non_root(spec),
            Rule::ReadOnlyRootFilesystem => workload::read_only_root_filesystem(spec),
            Rule::ResourceLimits { cpu, memory } => workload::resource_limits(spec, *cpu, *memory),
            Rule::PodSecurity { level, version } => {
                match pss::check(*level, *version, &input.pod.metadata, spec).as_slice() {
                    [] => Verdict::Pass,
                    v => Verdict::Violation(v.to_vec()),
                }
            }
            Rule::Rego(rule) => rule.evaluate(rego_input.get(input)),
        }
    }
}

#[cfg(test)]
mod tests;

pub use node::TAG_PREFIX;
