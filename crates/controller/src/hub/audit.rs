//! The background audit's arithmetic, with no I/O: every pod's decision folded into one
//! compliance line per policy (for the hub) and one bounded summary per namespace (for
//! the in-cluster PolicyReport), plus the violations found.
//!
//! Per policy: `non_compliant` when any pod violates it, `unknown` when none does but the
//! facts of some were unknown, `compliant` otherwise. Pods out of a policy's scope are not
//! counted; excluded ones count as `skip` in the namespace summaries.

use ironroot_api::{ComplianceStatus, ObjectRef, PolicyCompliance, ViolationSample, MAX_SAMPLES};
use ironroot_policy::{Decision, Mode, NotApplicable, PolicySet, Verdict};
use ironroot_severity::Severity;
use std::collections::BTreeMap;

/// Pods named per result of a namespace's report.
pub const MAX_RESOURCES_PER_RESULT: usize = 10;
/// The longest message kept from a verdict.
const MAX_MESSAGE: usize = 1024;

/// A PolicyReport result, as `wgpolicyk8s.io` spells them; declared best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Skip,
    Pass,
    /// The facts were unknown.
    Error,
    /// A violation of an `audit`-mode policy.
    Warn,
    /// A violation of an `enforce`-mode policy.
    Fail,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skip => "skip",
            Outcome::Pass => "pass",
            Outcome::Error => "error",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
        }
    }
}

/// Counts of (pod, policy) results in one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub pass: u64,
    pub fail: u64,
    pub warn: u64,
    pub error: u64,
    pub skip: u64,
}

/// One policy's result in one namespace: the worst over its pods, with some of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceResult {
    pub policy: String,
    pub severity: Severity,
    pub outcome: Outcome,
    /// How many pods had `outcome`.
    pub count: u64,
    pub message: String,
    /// At most [`MAX_RESOURCES_PER_RESULT`] pod names with `outcome`.
    pub pods: Vec<String>,
}

/// One namespace's bounded report: the summary and at most [`MAX_SAMPLES`] results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceReport {
    pub summary: Summary,
    pub results: Vec<NamespaceResult>,
}

/// A violation the audit found on a running pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Found {
    pub policy: String,
    pub object: (String, String),
    pub message: String,
}

/// The whole audit's result.
#[derive(Debug, Clone, Default)]
pub struct AuditOutcome {
    pub policies: Vec<PolicyCompliance>,
    pub namespaces: BTreeMap<String, NamespaceReport>,
    pub found: Vec<Found>,
}

/// Folds decisions in, one pod at a time.
pub struct Audit {
    policies: Vec<PolicyCompliance>,
    namespaces: BTreeMap<String, (Summary, BTreeMap<usize, NamespaceResult>)>,
    found: Vec<Found>,
    modes: Vec<(Mode, Severity)>,
}

impl Audit {
    pub fn new(set: &PolicySet) -> Audit {
        Audit {
            policies: set
                .policies()
                .iter()
                .map(|p| PolicyCompliance {
                    policy: p.id.clone(),
                    status: ComplianceStatus::Compliant,
                    checked: 0,
                    violations: 0,
                    unknown: 0,
                    samples: Vec::new(),
                })
                .collect(),
            namespaces: BTreeMap::new(),
            found: Vec::new(),
            modes: set
                .policies()
                .iter()
                .map(|p| (p.mode, p.severity))
                .collect(),
        }
    }

    /// Adds one pod's decision (its verdicts are in the set's order).
    pub fn add(&mut self, namespace: &str, name: &str, decision: &Decision) {
        let (summary, results) = self.namespaces.entry(namespace.to_owned()).or_default();
        for (i, v) in decision.verdicts.iter().enumerate() {
            let (Some(line), Some(&(mode, severity))) =
                (self.policies.get_mut(i), self.modes.get(i))
            else {
                continue;
            };
            let (outcome, message) = match &v.verdict {
                Verdict::NotApplicable(
                    NotApplicable::ClusterOutOfScope | NotApplicable::NamespaceOutOfScope,
                ) => continue,
                Verdict::NotApplicable(NotApplicable::Excluded { reason, .. }) => {
                    (Outcome::Skip, format!("excluded: {reason}"))
                }
                Verdict::NotApplicable(NotApplicable::NothingToCheck { why }) => {
                    (Outcome::Skip, why.clone())
                }
                Verdict::Pass => (Outcome::Pass, String::new()),
                Verdict::Unknown(what) => (Outcome::Error, format!("unknown: {}", what.join(", "))),
                Verdict::Violation(vs) => {
                    let m = vs
                        .iter()
                        .map(|v| v.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    let outcome = if mode == Mode::Enforce {
                        Outcome::Fail
                    } else {
                        Outcome::Warn
                    };
                    (outcome, m)
                }
            };
            let message = truncate(message);
            count(summary, outcome);
            tally(line, outcome, namespace, name, &message);
            if matches!(outcome, Outcome::Fail | Outcome::Warn) {
                self.found.push(Found {
                    policy: v.id.clone(),
                    object: (namespace.to_owned(), name.to_owned()),
                    message: message.clone(),
                });
            }
            let r = results.entry(i).or_insert_with(|| NamespaceResult {
                policy: v.id.clone(),
                severity,
                outcome,
                count: 0,
                message: message.clone(),
                pods: Vec::new(),
            });
            if outcome > r.outcome {
                *r = NamespaceResult {
                    policy: v.id.clone(),
                    severity,
                    outcome,
                    count: 0,
                    message,
                    pods: Vec::new(),
                };
            }
            if outcome == r.outcome {
                r.count += 1;
                if r.pods.len() < MAX_RESOURCES_PER_RESULT {
                    r.pods.push(name.to_owned());
                }
            }
        }
    }

    pub fn finish(self) -> AuditOutcome {
        let namespaces = self
            .namespaces
            .into_iter()
            .map(|(ns, (summary, results))| {
                let mut results: Vec<NamespaceResult> = results.into_values().collect();
                // The worst first, so that the bound drops passes before failures.
                results.sort_by(|a, b| b.outcome.cmp(&a.outcome).then(b.severity.cmp(&a.severity)));
                results.truncate(MAX_SAMPLES);
                (ns, NamespaceReport { summary, results })
            })
            .collect();
        AuditOutcome {
            policies: self.policies,
            namespaces,
            found: self.found,
        }
    }
}

fn count(s: &mut Summary, o: Outcome) {
    let c = match o {
        Outcome::Skip => &mut s.skip,
        Outcome::Pass => &mut s.pass,
        Outcome::Error => &mut s.error,
        Outcome::Warn => &mut s.warn,
        Outcome::Fail => &mut s.fail,
    };
    *c += 1;
}

fn tally(line: &mut PolicyCompliance, o: Outcome, namespace: &str, name: &str, message: &str) {
    match o {
        Outcome::Skip => return,
        Outcome::Pass => {}
        Outcome::Error => line.unknown += 1,
        Outcome::Warn | Outcome::Fail => {
            line.violations += 1;
            if line.samples.len() < MAX_SAMPLES {
                line.samples.push(ViolationSample {
                    object: ObjectRef {
                        namespace: namespace.to_owned(),
                        kind: "Pod".into(),
                        name: name.to_owned(),
                    },
                    message: message.to_owned(),
                });
            }
        }
    }
    line.checked += 1;
    line.status = if line.violations > 0 {
        ComplianceStatus::NonCompliant
    } else if line.unknown > 0 {
        ComplianceStatus::Unknown
    } else {
        ComplianceStatus::Compliant
    };
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
