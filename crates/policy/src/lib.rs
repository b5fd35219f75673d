//! The policy engine (brief R10): policy sets written once (YAML or JSON, validated on
//! load), evaluated over a pod, where it runs, and the facts the caller gathered, into one
//! typed verdict per policy and an admission decision.
//!
//! Built-in typed rules (node trust, encryption under broker keys, the pipeline's
//! signature, trusted signatures and digests, scans, privileged, non-root, read-only root
//! filesystems, resource and pid limits, approved registries, region placement, the
//! Kubernetes Pod Security Standards) and custom rules in Rego (regorus). See
//! `docs/policies.md`.
//!
//! This crate must never do I/O, read a clock or gather facts: the caller passes the time
//! and the facts (the webhook, the background audit). An unknown fact is a verdict of its
//! own, [`Verdict::Unknown`], never "no".
#![forbid(unsafe_code)]

mod containers;
pub mod example;
mod facts;
mod load;
mod model;
mod params;
pub mod pss;
mod registry;
mod rego;
mod rules;
mod scope;
mod verdict;

pub use facts::{
    Facts, ImageFacts, Input, KeyFacts, LayerFacts, NodeFacts, ScanSummary, SignatureFact,
};
pub use load::{LoadError, MAX_INPUT_BYTES, MAX_LIST, MAX_POLICIES, MAX_REGO_MODULE_BYTES};
pub use model::{Failure, Mode, Remediation};
pub use registry::RegistryPrefix;
pub use rego::{RegoRule, EVALUATION_LIMIT};
pub use rules::Rule;
pub use rules::TAG_PREFIX;
pub use scope::{Exclusion, Pattern, Scope, Selection};
pub use verdict::{Decision, NotApplicable, PolicyVerdict, Verdict, Violation};

use ironroot_severity::Severity;
use serde::Serialize;

/// A validated policy.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub id: String,
    pub description: String,
    pub severity: Severity,
    pub mode: Mode,
    pub scope: Scope,
    pub remediation: Remediation,
    pub failure: Failure,
    pub rule: Rule,
}

/// A validated policy set: its revision and its policies, ids unique.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySet {
    pub version: u64,
    policies: Vec<Policy>,
}

impl PolicySet {
    /// Loads and validates a YAML document (at most [`MAX_INPUT_BYTES`]).
    pub fn from_yaml(bytes: &[u8]) -> Result<PolicySet, LoadError> {
        load::from_yaml(bytes)
    }

    /// Loads and validates a JSON document (at most [`MAX_INPUT_BYTES`]).
    pub fn from_json(bytes: &[u8]) -> Result<PolicySet, LoadError> {
        load::from_json(bytes)
    }

    /// A set with no policies (it admits everything).
    pub fn empty(version: u64) -> PolicySet {
        PolicySet {
            version,
            policies: Vec::new(),
        }
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Every policy's verdict on `input` at `now` (unix seconds), and the decision.
    pub fn evaluate(&self, input: &Input, now: u64) -> Decision {
        let mut rego_input = rego::LazyInput::default();
        let verdicts = self
            .policies
            .iter()
            .map(|p| PolicyVerdict {
                id: p.id.clone(),
                severity: p.severity,
                mode: p.mode,
                remediation: p.remediation,
                failure: p.failure,
                verdict: match applicability(p, input, now) {
                    Some(n) => Verdict::NotApplicable(n),
                    None => p.rule.evaluate(input, &mut rego_input, now),
                },
            })
            .collect();
        Decision::from_verdicts(verdicts)
    }
}

/// Why `policy` does not judge `input`, if it does not.
fn applicability(policy: &Policy, input: &Input, now: u64) -> Option<NotApplicable> {
    if !policy.scope.clusters.contains(input.cluster) {
        return Some(NotApplicable::ClusterOutOfScope);
    }
    if !policy.scope.namespaces.contains(input.namespace) {
        return Some(NotApplicable::NamespaceOutOfScope);
    }
    let meta = &input.pod.metadata;
    let name = meta
        .name
        .as_deref()
        .or(meta.generate_name.as_deref())
        .unwrap_or_default();
    let (index, e) = policy
        .scope
        .exclusions
        .iter()
        .enumerate()
        .find(|(_, e)| e.excludes(input.namespace, name, now))?;
    Some(NotApplicable::Excluded {
        index,
        reason: e.reason.clone(),
        expires: e.expires,
    })
}
