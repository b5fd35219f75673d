//! Turns evidence, a flavor group and its flavors into a trust report.

use crate::context::{Context, Known};
use crate::fault::{Fault, FaultName};
use crate::flavor::Flavor;
use crate::group::{FlavorGroup, MatchPolicy, MatchType, Required};
use crate::report::{RuleResult, TrustReport};
use crate::rule_id::RuleId;
use crate::{rules, Evidence};

/// Evaluates `evidence` against `group`, whose flavors are `flavors` (the caller passes the
/// flavors that belong to the group; those of other hosts are skipped here for
/// HOST_UNIQUE and ASSET_TAG). `now` is unix seconds; the report is valid for
/// `validity_secs` after it.
///
/// The host is trusted only if the built-in log-integrity rules pass, the group has at
/// least one policy, every policy is satisfied, and at least one flavor rule was
/// evaluated (see [`combine_policies`]).
pub fn verify(
    evidence: &Evidence,
    group: &FlavorGroup,
    flavors: &[Flavor],
    now: u64,
    validity_secs: u64,
) -> TrustReport {
    verify_with(
        evidence,
        Known::default(),
        group,
        flavors,
        now,
        validity_secs,
    )
}

/// [`verify`] with log replays the caller already holds for exactly these logs.
pub(crate) fn verify_with(
    evidence: &Evidence,
    known: Known<'_>,
    group: &FlavorGroup,
    flavors: &[Flavor],
    now: u64,
    validity_secs: u64,
) -> TrustReport {
    let ctx = Context::with_known(evidence, known);
    let mut results = ctx.integrity.results.clone();
    let integrity_ok = results.iter().all(|r| r.trusted);
    let mut outcomes = Vec::with_capacity(group.policies.len());
    for policy in &group.policies {
        let (outcome, policy_results) = evaluate_policy(policy, flavors, &ctx);
        outcomes.push(outcome);
        results.extend(policy_results);
    }
    let verdict = combine_policies(&outcomes);
    if let Some(fault) = verdict.fault(&group.name) {
        results.push(RuleResult::builtin(RuleId::MatchPolicy, vec![fault]));
    }
    let trusted = integrity_ok && verdict == PolicyVerdict::Trusted;
    TrustReport {
        host_id: evidence.host.host_id.clone(),
        hostname: evidence.host.hostname.clone(),
        trusted,
        created: now,
        expires: now.saturating_add(validity_secs),
        group: group.name.clone(),
        results,
        quoted_pcrs: evidence.quoted.clone(),
        reset_count: evidence.host.reset_count,
        restart_count: evidence.host.restart_count,
        asset_tags: Default::default(),
    }
}

/// What one match policy concluded, and how many flavor rules it evaluated to get there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyOutcome {
    pub passed: bool,
    pub rules_evaluated: usize,
}

/// The verdict of a group's policies taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyVerdict {
    /// Every policy passed and at least one flavor rule was evaluated.
    Trusted,
    /// At least one policy failed; its own result says why.
    PolicyFailed,
    /// The group has no policies.
    NoPolicy,
    /// Every policy passed, but not one rule was evaluated: nothing was checked.
    NothingEvaluated,
}

impl PolicyVerdict {
    /// The fault the verdict adds to the report, when the policies' own results do not
    /// already say why the host is untrusted.
    fn fault(self, group: &str) -> Option<Fault> {
        match self {
            PolicyVerdict::Trusted | PolicyVerdict::PolicyFailed => None,
            PolicyVerdict::NoPolicy => Some(Fault::new(
                FaultName::NoMatchPolicy,
                format!("flavor group {group} has no match policies"),
            )),
            PolicyVerdict::NothingEvaluated => Some(Fault::new(
                FaultName::NoRulesEvaluated,
                format!(
                    "flavor group {group} evaluated no flavor rule for this host: every policy is \
                     REQUIRED_IF_DEFINED and the group holds none of their flavors, so nothing was checked"
                ),
            )),
        }
    }
}

/// all_of over the policies, failing closed: no policy, or policies that all passed
/// without evaluating a single rule, are never trusted. A policy that passes without
/// evaluating anything (REQUIRED_IF_DEFINED, no flavor) neither helps nor hurts.
pub(crate) fn combine_policies(outcomes: &[PolicyOutcome]) -> PolicyVerdict {
    if outcomes.is_empty() {
        PolicyVerdict::NoPolicy
    } else if outcomes.iter().any(|o| !o.passed) {
        PolicyVerdict::PolicyFailed
    } else if outcomes.iter().all(|o| o.rules_evaluated == 0) {
        PolicyVerdict::NothingEvaluated
    } else {
        PolicyVerdict::Trusted
    }
}

/// One result per rule; a flavor without rules gets a single failing result instead,
/// because a flavor that checks nothing must not vouch for anything.
pub(crate) fn evaluate_flavor(flavor: &Flavor, ctx: &Context<'_>) -> (bool, Vec<RuleResult>) {
    if flavor.rules.is_empty() {
        let fault = Fault::new(
            FaultName::EmptyRule,
            format!("flavor {} has no rules", flavor.meta.label),
        );
        return (
            false,
            vec![RuleResult::for_flavor(
                RuleId::Flavor,
                None,
                flavor,
                vec![fault],
            )],
        );
    }
    let results: Vec<RuleResult> = flavor
        .rules
        .iter()
        .map(|r| RuleResult::for_flavor(r.id(), Some(r.subject()), flavor, rules::evaluate(r, ctx)))
        .collect();
    (results.iter().all(|r| r.trusted), results)
}

fn applies_to_host(flavor: &Flavor, host_id: &str) -> bool {
    !flavor.meta.part.is_host_bound() || flavor.meta.host_id.as_deref() == Some(host_id)
}

fn evaluate_policy(
    policy: &MatchPolicy,
    flavors: &[Flavor],
    ctx: &Context<'_>,
) -> (PolicyOutcome, Vec<RuleResult>) {
    let part = policy.part;
    let host_id = ctx.evidence.host.host_id.as_str();
    let mut candidates: Vec<&Flavor> = flavors
        .iter()
        .filter(|f| f.meta.part == part && applies_to_host(f, host_id))
        .collect();
    if candidates.is_empty() {
        let passed = policy.required == Required::RequiredIfDefined;
        let outcome = PolicyOutcome {
            passed,
            rules_evaluated: 0,
        };
        if passed {
            return (outcome, Vec::new());
        }
        let fault = Fault::new(
            FaultName::RequiredFlavorTypeMissing,
            format!("no {part} flavor is defined for this host"),
        );
        return (outcome, vec![RuleResult::for_policy(part, vec![fault])]);
    }
    if policy.match_type == MatchType::Latest {
        let newest = candidates.iter().map(|f| f.meta.created).max().unwrap_or(0);
        candidates.retain(|f| f.meta.created == newest);
    }
    let rules_evaluated = candidates.iter().map(|f| f.rules.len()).sum();
    let evaluated: Vec<(&Flavor, bool, Vec<RuleResult>)> = candidates
        .into_iter()
        .map(|f| {
            let (ok, r) = evaluate_flavor(f, ctx);
            (f, ok, r)
        })
        .collect();
    let matched = evaluated.iter().filter(|(_, ok, _)| *ok).count();
    let ok = match policy.match_type {
        MatchType::AnyOf => matched > 0,
        MatchType::AllOf | MatchType::Latest => matched == evaluated.len(),
    };
    let outcome = PolicyOutcome {
        passed: ok,
        rules_evaluated,
    };
    (outcome, policy_results(policy, ok, evaluated))
}

/// When an any_of policy is met, only the matching flavors' results are kept: the others
/// are alternatives that did not apply, and their faults would only mislead a reader.
/// Otherwise every evaluated flavor's results are kept, and a policy result says why.
fn policy_results(
    policy: &MatchPolicy,
    ok: bool,
    evaluated: Vec<(&Flavor, bool, Vec<RuleResult>)>,
) -> Vec<RuleResult> {
    let part = policy.part;
    let total = evaluated.len();
    let keep_only_matches = ok && policy.match_type == MatchType::AnyOf;
    let mut failed_labels = Vec::new();
    let mut out = Vec::new();
    for (flavor, matched, results) in evaluated {
        if !matched {
            failed_labels.push(format!("{} ({})", flavor.meta.label, flavor.id));
        }
        if matched || !keep_only_matches {
            out.extend(results);
        }
    }
    let faults = if ok {
        Vec::new()
    } else {
        let failed = failed_labels.join(", ");
        let (name, sentence) = match policy.match_type {
            MatchType::AnyOf => (
                FaultName::NoFlavorMatched,
                format!("none of the {total} {part} flavor(s) matched: {failed}"),
            ),
            MatchType::AllOf => (
                FaultName::AllOfFlavorsMissing,
                format!(
                    "{} of the {total} {part} flavor(s) did not match, and all must: {failed}",
                    failed_labels.len()
                ),
            ),
            MatchType::Latest => (
                FaultName::NoFlavorMatched,
                format!("the newest {part} flavor did not match: {failed}"),
            ),
        };
        let fault = Fault::new(name, sentence);
        vec![fault]
    };
    out.push(RuleResult::for_policy(part, faults));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn o(passed: bool, rules_evaluated: usize) -> PolicyOutcome {
        PolicyOutcome {
            passed,
            rules_evaluated,
        }
    }

    /// The combinator's truth table, the empty cases first: no policy, and policies that
    /// all passed on nothing (the group of REQUIRED_IF_DEFINED policies without flavors
    /// that trusted anything).
    #[test]
    fn zero_rules_evaluated_is_never_trusted_combinator_truth_table() {
        use PolicyVerdict as V;
        let table: [(&[PolicyOutcome], PolicyVerdict); 9] = [
            (&[], V::NoPolicy),
            (&[o(true, 0)], V::NothingEvaluated),
            (&[o(true, 0), o(true, 0), o(true, 0)], V::NothingEvaluated),
            (&[o(false, 0)], V::PolicyFailed),
            (&[o(false, 3)], V::PolicyFailed),
            (&[o(true, 1)], V::Trusted),
            (&[o(true, 0), o(true, 2)], V::Trusted),
            (&[o(true, 2), o(false, 0)], V::PolicyFailed),
            (&[o(true, 0), o(false, 5), o(true, 1)], V::PolicyFailed),
        ];
        for (outcomes, want) in table {
            assert_eq!(combine_policies(outcomes), want, "{outcomes:?}");
        }
    }

    #[test]
    fn every_untrusted_verdict_without_a_failed_policy_names_its_fault() {
        assert_eq!(PolicyVerdict::Trusted.fault("g"), None);
        assert_eq!(PolicyVerdict::PolicyFailed.fault("g"), None);
        let f = PolicyVerdict::NoPolicy.fault("g").map(|f| f.name);
        assert_eq!(f, Some(FaultName::NoMatchPolicy));
        let f = PolicyVerdict::NothingEvaluated.fault("g");
        assert_eq!(
            f.as_ref().map(|f| f.name),
            Some(FaultName::NoRulesEvaluated)
        );
        assert!(f.is_some_and(|f| f.description.contains("REQUIRED_IF_DEFINED")));
    }
}
