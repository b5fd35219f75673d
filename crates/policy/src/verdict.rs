//! What evaluation answers: per policy a typed verdict, and the admission decision.

use crate::model::{Failure, Mode, Remediation};
use ironroot_severity::Severity;
use serde::Serialize;

/// One thing that breaks a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The container it concerns, when it concerns one.
    pub container: Option<String>,
    /// The field (`spec.containers[app].securityContext.privileged`) or fact (`facts.node.trust`).
    pub field: String,
    pub message: String,
}

impl Violation {
    pub(crate) fn new(
        container: Option<&str>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            container: container.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a policy did not judge the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum NotApplicable {
    ClusterOutOfScope,
    NamespaceOutOfScope,
    /// The exclusion (its index in the policy's `scope.exclusions`) that holds.
    Excluded {
        index: usize,
        reason: String,
        expires: u64,
    },
    /// The object has nothing this rule looks at (an unbound pod for a node rule).
    NothingToCheck {
        why: String,
    },
}

/// A policy's verdict on one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Violation(Vec<Violation>),
    NotApplicable(NotApplicable),
    /// Facts the rule needed were missing (or the Rego query failed): the policy's
    /// `failure` says what the webhook does.
    Unknown(Vec<String>),
}

/// A verdict with the policy's attributes, as reports and alerts need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVerdict {
    pub id: String,
    pub severity: Severity,
    pub mode: Mode,
    pub remediation: Remediation,
    pub failure: Failure,
    pub verdict: Verdict,
}

impl PolicyVerdict {
    /// Whether this verdict refuses admission: only `enforce` with `deny`, on a violation,
    /// or on unknown when the policy fails closed. Audit mode never refuses.
    pub fn denies(&self) -> bool {
        if self.mode != Mode::Enforce || self.remediation != Remediation::Deny {
            return false;
        }
        match &self.verdict {
            Verdict::Violation(_) => true,
            Verdict::Unknown(_) => self.failure == Failure::Closed,
            Verdict::Pass | Verdict::NotApplicable(_) => false,
        }
    }
}

/// The admission decision: every policy's verdict, and whether the pod is admitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub verdicts: Vec<PolicyVerdict>,
}

impl Decision {
    pub(crate) fn from_verdicts(verdicts: Vec<PolicyVerdict>) -> Decision {
        Decision {
            allowed: !verdicts.iter().any(PolicyVerdict::denies),
            verdicts,
        }
    }

    /// The verdicts that refuse admission.
    pub fn denials(&self) -> impl Iterator<Item = &PolicyVerdict> {
        self.verdicts.iter().filter(|v| v.denies())
    }
}

/// What a rule collects while it looks: a violation found is decisive even when other
/// facts are missing; missing facts decide only when nothing was found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub violations: Vec<Violation>,
    pub unknown: Vec<String>,
}

impl Findings {
    pub fn violation(
        &mut self,
        container: Option<&str>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.violations
            .push(Violation::new(container, field, message));
    }

    pub fn unknown(&mut self, what: impl Into<String>) {
        self.unknown.push(what.into());
    }

    pub fn verdict(self) -> Verdict {
        if !self.violations.is_empty() {
            Verdict::Violation(self.violations)
        } else if !self.unknown.is_empty() {
            Verdict::Unknown(self.unknown)
        } else {
            Verdict::Pass
        }
    }
}
