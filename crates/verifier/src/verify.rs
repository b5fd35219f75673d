//! Turns evidence, a flavor group and its flavors into a trust report.

use crate::context::{Context, Known};
use crate::fault::{Fault, FaultName};
use crate::flavor::Flavor;
use crate::group::{FlavorGroup, MatchPolicy, MatchType, Required};
use crate::report::{RuleResult, TrustReport};
use crate::{rules, Evidence};

/// Evaluates `evidence` against `group`, whose flavors are `flavors` (the caller passes the
/// flavors that belong to the group; those of other hosts are skipped here for
/// HOST_UNIQUE and ASSET_TAG). `now` is unix seconds; the report is valid for
/// `validity_secs` after it.
///
/// The host is trusted only if the built-in log-integrity rules pass, the group has at
/// least one policy, and every policy is satisfied.
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
    let mut trusted = results.iter().all(|r| r.trusted);
    if group.policies.is_empty() {
        trusted = false;
        results.push(RuleResult::builtin(
            "match_policy",
            vec![Fault::new(
                FaultName::NoMatchPolicy,
                format!("flavor group {} has no match policies", group.name),
            )],
        ));
    }
    for policy in &group.policies {
        let (ok, policy_results) = evaluate_policy(policy, flavors, &ctx);
        trusted &= ok;
        results.extend(policy_results);
    }
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
            vec![RuleResult::for_flavor("flavor", None, flavor, vec![fault])],
        );
    }
    let results: Vec<RuleResult> = flavor
        .rules
        .iter()
        .map(|r| {
            RuleResult::for_flavor(r.name(), Some(r.subject()), flavor, rules::evaluate(r, ctx))
        })
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
) -> (bool, Vec<RuleResult>) {
    let part = policy.part;
    let host_id = ctx.evidence.host.host_id.as_str();
    let mut candidates: Vec<&Flavor> = flavors
        .iter()
        .filter(|f| f.meta.part == part && applies_to_host(f, host_id))
        .collect();
    if candidates.is_empty() {
        return match policy.required {
            Required::RequiredIfDefined => (true, Vec::new()),
            Required::Required => {
                let fault = Fault::new(
                    FaultName::RequiredFlavorTypeMissing,
                    format!("no {part} flavor is defined for this host"),
                );
                (false, vec![RuleResult::for_policy(part, vec![fault])])
            }
        };
    }
    if policy.match_type == MatchType::Latest {
        let newest = candidates.iter().map(|f| f.meta.created).max().unwrap_or(0);
        candidates.retain(|f| f.meta.created == newest);
    }
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
    (ok, policy_results(policy, ok, evaluated))
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
