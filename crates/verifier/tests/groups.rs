//! Match policies: truth tables for any_of / all_of / latest × required /
//! required_if_defined, and the group-level rules around them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_verifier::{
    verify, FaultName, Flavor, FlavorGroup, FlavorPart, MatchPolicy, MatchType, Required,
};

/// Flavor sets, each a list of (created, passes).
const SETS: [(&str, &[(u64, bool)]); 6] = [
    ("none", &[]),
    ("one passing", &[(1, true)]),
    ("one failing", &[(1, false)]),
    ("mixed, newest passes", &[(1, false), (2, true)]),
    ("mixed, newest fails", &[(1, true), (2, false)]),
    ("newest tied, one fails", &[(2, true), (2, false)]),
];

fn run(
    match_type: MatchType,
    required: Required,
    set: &[(u64, bool)],
) -> ironroot_verifier::TrustReport {
    let ev = golden();
    let flavors: Vec<Flavor> = set
        .iter()
        .map(|(created, pass)| flavor(FlavorPart::Platform, *created, vec![pcr0_rule(&ev, *pass)]))
        .collect();
    let group = FlavorGroup {
        name: "g".into(),
        policies: vec![MatchPolicy {
            part: FlavorPart::Platform,
            match_type,
            required,
        }],
        schedule: None,
    };
    verify(&ev, &group, &flavors, NOW, 60)
}

fn table(match_type: MatchType, required: Required, want: [bool; 6]) {
    for ((name, set), want) in SETS.iter().zip(want) {
        let report = run(match_type, required, set);
        assert_eq!(
            report.trusted, want,
            "{match_type:?} {required:?} with {name}: {report:#?}"
        );
        if !want {
            assert!(
                report.failed_faults().next().is_some(),
                "an untrusted report says why"
            );
        }
    }
}

// The "none" column of REQUIRED_IF_DEFINED is false: with the group's only policy
// finding no flavor, no rule was evaluated, and nothing checked is never trusted.

#[test]
fn any_of_truth_table() {
    table(
        MatchType::AnyOf,
        Required::Required,
        [false, true, false, true, true, true],
    );
    table(
        MatchType::AnyOf,
        Required::RequiredIfDefined,
        [false, true, false, true, true, true],
    );
}

#[test]
fn all_of_truth_table() {
    table(
        MatchType::AllOf,
        Required::Required,
        [false, true, false, false, false, false],
    );
    table(
        MatchType::AllOf,
        Required::RequiredIfDefined,
        [false, true, false, false, false, false],
    );
}

#[test]
fn latest_truth_table() {
    table(
        MatchType::Latest,
        Required::Required,
        [false, true, false, true, false, false],
    );
    table(
        MatchType::Latest,
        Required::RequiredIfDefined,
        [false, true, false, true, false, false],
    );
}

#[test]
fn policy_failures_carry_their_named_fault() {
    let cases = [
        (
            MatchType::AnyOf,
            Required::Required,
            SETS[0].1,
            FaultName::RequiredFlavorTypeMissing,
        ),
        (
            MatchType::AnyOf,
            Required::Required,
            SETS[2].1,
            FaultName::NoFlavorMatched,
        ),
        (
            MatchType::AllOf,
            Required::Required,
            SETS[3].1,
            FaultName::AllOfFlavorsMissing,
        ),
        (
            MatchType::Latest,
            Required::Required,
            SETS[4].1,
            FaultName::NoFlavorMatched,
        ),
    ];
    for (m, r, set, want) in cases {
        let report = run(m, r, set);
        let policy = report
            .results
            .iter()
            .find(|r| r.rule == ironroot_verifier::RuleId::MatchPolicy)
            .unwrap();
        assert_eq!(policy.faults[0].name, want, "{m:?} {r:?}");
    }
}

#[test]
fn any_of_that_matched_keeps_only_the_matching_flavors_results() {
    let report = run(MatchType::AnyOf, Required::Required, SETS[3].1);
    assert!(report.trusted);
    assert_eq!(report.failed_faults().count(), 0, "{report:#?}");
    let failed = run(
        MatchType::AnyOf,
        Required::Required,
        &[(1, false), (2, false)],
    );
    let failing_flavors = failed
        .results
        .iter()
        .filter(|r| r.flavor_id.is_some() && !r.trusted)
        .count();
    assert_eq!(
        failing_flavors, 2,
        "an unmatched any_of shows every flavor it tried"
    );
}

#[test]
fn a_group_without_policies_trusts_nobody() {
    let ev = golden();
    let flavors = [flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&ev, true)])];
    let report = verify(
        &ev,
        &FlavorGroup {
            name: "empty".into(),
            policies: vec![],
            schedule: None,
        },
        &flavors,
        NOW,
        60,
    );
    assert!(!report.trusted);
    assert_eq!(fault_names(&report), vec![FaultName::NoMatchPolicy]);
}

/// The review's finding: a group whose policies are all REQUIRED_IF_DEFINED and that holds
/// no flavors evaluated zero rules and trusted anything (a key was released on it).
#[test]
fn a_required_if_defined_group_without_flavors_trusts_nobody() {
    let ev = golden();
    let lax = |part| MatchPolicy {
        part,
        match_type: MatchType::AnyOf,
        required: Required::RequiredIfDefined,
    };
    let group = FlavorGroup {
        name: "lax".into(),
        policies: vec![lax(FlavorPart::Platform), lax(FlavorPart::Software)],
        schedule: None,
    };
    // Flavors of a part the group has no policy for do not count either.
    let unrelated = [flavor(FlavorPart::Os, 1, vec![pcr0_rule(&ev, true)])];
    for flavors in [&[][..], &unrelated[..]] {
        let report = verify(&ev, &group, flavors, NOW, 60);
        assert!(!report.trusted, "{report:#?}");
        assert_eq!(fault_names(&report), vec![FaultName::NoRulesEvaluated]);
        assert!(!report.is_trusted_at(NOW));
    }
    // One flavor of a policy's part is enough to have checked something.
    let platform = [flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&ev, true)])];
    assert!(verify(&ev, &group, &platform, NOW, 60).trusted);
    // A REQUIRED_IF_DEFINED policy without flavors beside a policy that checked
    // something neither helps nor hurts.
    let mut mixed = FlavorGroup::default_group("automatic");
    mixed.name = "mixed".into();
    let both = [
        flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&ev, true)]),
        flavor(FlavorPart::Os, 1, vec![pcr0_rule(&ev, true)]),
    ];
    assert!(verify(&ev, &mixed, &both, NOW, 60).trusted);
}

#[test]
fn flavors_of_a_part_without_policy_are_not_evaluated() {
    let ev = golden();
    let group = FlavorGroup {
        name: "platform only".into(),
        policies: vec![MatchPolicy {
            part: FlavorPart::Platform,
            match_type: MatchType::AnyOf,
            required: Required::Required,
        }],
        schedule: None,
    };
    let flavors = [
        flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&ev, true)]),
        flavor(FlavorPart::Software, 1, vec![pcr0_rule(&ev, false)]),
    ];
    assert!(verify(&ev, &group, &flavors, NOW, 60).trusted);
}

#[test]
fn host_bound_flavors_apply_only_to_their_host() {
    let ev = golden();
    let base = [
        flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&ev, true)]),
        flavor(FlavorPart::Os, 1, vec![pcr0_rule(&ev, true)]),
    ];
    let mut other_host = flavor(FlavorPart::HostUnique, 1, vec![pcr0_rule(&ev, false)]);
    other_host.meta.host_id = Some("host-b".into());
    let mut no_host = flavor(FlavorPart::HostUnique, 1, vec![pcr0_rule(&ev, false)]);
    no_host.meta.host_id = None;
    let ours_failing = flavor(FlavorPart::HostUnique, 1, vec![pcr0_rule(&ev, false)]);

    let with = |extra: Flavor| check(&ev, &[base[0].clone(), base[1].clone(), extra]);
    assert!(
        with(other_host).trusted,
        "another host's flavor is not defined for this one"
    );
    assert!(
        with(no_host).trusted,
        "a host-bound flavor without a host applies to none"
    );
    assert!(!with(ours_failing).trusted);
}

#[test]
fn the_default_group_is_isecls_automatic_group() {
    let g = FlavorGroup::default_group("automatic");
    let p = |part| {
        g.policies
            .iter()
            .find(|p| p.part == part)
            .map(|p| (p.match_type, p.required))
            .unwrap()
    };
    assert_eq!(
        p(FlavorPart::Platform),
        (MatchType::AnyOf, Required::Required)
    );
    assert_eq!(p(FlavorPart::Os), (MatchType::AnyOf, Required::Required));
    assert_eq!(
        p(FlavorPart::HostUnique),
        (MatchType::Latest, Required::RequiredIfDefined)
    );
    assert_eq!(
        p(FlavorPart::Software),
        (MatchType::AllOf, Required::RequiredIfDefined)
    );
    assert_eq!(
        p(FlavorPart::AssetTag),
        (MatchType::Latest, Required::RequiredIfDefined)
    );
}
