//! Every flavor rule: a passing case and each fault it can raise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use ironroot_verifier::{ExpectedEvent, Fault, FaultName, FlavorPart, Rule};

fn expected_events(ev: &ironroot_verifier::Evidence, pcr: u32) -> Vec<ExpectedEvent> {
    let log = ev.event_log.as_ref().unwrap();
    log.events
        .iter()
        .filter(|e| e.pcr == pcr && e.event_type != ironroot_evidence::EventType::NoAction)
        .map(|e| ExpectedEvent {
            event_type: e.event_type.name().into(),
            digest: e.digests[&HashAlg::Sha256].clone(),
            description: e.description(),
        })
        .collect()
}

fn only_fault(ev: &ironroot_verifier::Evidence, rule: Rule) -> Fault {
    let report = check_rule(ev, rule);
    assert!(!report.trusted);
    let faults: Vec<&Fault> = report
        .results
        .iter()
        .filter(|r| {
            r.part == Some(FlavorPart::Platform) && r.rule != ironroot_verifier::RuleId::MatchPolicy
        })
        .flat_map(|r| &r.faults)
        .collect();
    assert_eq!(faults.len(), 1, "{faults:#?}");
    faults[0].clone()
}

#[test]
fn pcr_matches_passes_on_the_quoted_value() {
    let ev = golden();
    assert!(check_rule(&ev, pcr0_rule(&ev, true)).trusted);
}

#[test]
fn pcr_matches_mismatch_names_both_values() {
    let ev = golden();
    let rule = pcr0_rule(&ev, false);
    let Rule::PcrMatches { value, .. } = &rule else {
        unreachable!()
    };
    let want = value.hex();
    let f = only_fault(&ev, rule);
    assert_eq!(f.name, FaultName::PcrValueMismatch);
    assert_eq!((f.bank, f.pcr_index), (Some(HashAlg::Sha256), Some(0)));
    assert_eq!(f.expected.as_deref(), Some(want.as_str()));
    assert_eq!(
        f.actual,
        Some(ev.quoted.get(HashAlg::Sha256, 0).unwrap().hex())
    );
}

#[test]
fn pcr_matches_on_an_unquoted_pcr_or_bank_is_missing() {
    let ev = golden();
    for (bank, index) in [(HashAlg::Sha256, 15), (HashAlg::Sha384, 0)] {
        let f = only_fault(
            &ev,
            Rule::PcrMatches {
                bank,
                index,
                value: Digest(vec![0; bank.len()]),
            },
        );
        assert_eq!(f.name, FaultName::PcrValueMissing);
        assert_eq!((f.bank, f.pcr_index), (Some(bank), Some(index)));
    }
}

fn equals(events: Vec<ExpectedEvent>, excluding: &[&str]) -> Rule {
    let excluding_types = excluding.iter().map(|s| s.to_string()).collect();
    Rule::EventLogEquals {
        bank: HashAlg::Sha256,
        index: 4,
        events,
        excluding_types,
    }
}

#[test]
fn event_log_equals_passes_on_the_same_events_and_with_exclusions() {
    let ev = golden();
    assert!(check_rule(&ev, equals(expected_events(&ev, 4), &[])).trusted);
    let without_separator: Vec<_> = expected_events(&ev, 4)
        .into_iter()
        .filter(|e| e.event_type != "EV_SEPARATOR")
        .collect();
    assert!(check_rule(&ev, equals(without_separator.clone(), &["EV_SEPARATOR"])).trusted);
    assert!(!check_rule(&ev, equals(without_separator, &[])).trusted);
}

#[test]
fn event_log_equals_reports_missing_unexpected_and_reordered_events() {
    let ev = golden();
    let mut extra = expected_events(&ev, 4);
    let bogus = ExpectedEvent {
        event_type: "EV_IPL".into(),
        digest: Digest(vec![7; 32]),
        description: "bogus".into(),
    };
    extra.push(bogus.clone());
    let f = only_fault(&ev, equals(extra, &[]));
    assert_eq!(f.name, FaultName::EventLogMissingExpectedEntries);
    assert_eq!(f.missing_entries, vec![bogus]);

    let mut fewer = expected_events(&ev, 4);
    let kernel = fewer.pop().unwrap();
    let f = only_fault(&ev, equals(fewer, &[]));
    assert_eq!(f.name, FaultName::EventLogContainsUnexpectedEntries);
    assert_eq!(f.unexpected_entries, vec![kernel]);
    assert!(f.description.contains("vmlinuz-6.8"), "{}", f.description);

    let mut reordered = expected_events(&ev, 4);
    reordered.reverse();
    assert_eq!(
        only_fault(&ev, equals(reordered, &[])).name,
        FaultName::EventLogOrderMismatch
    );
}

#[test]
fn event_log_equals_without_a_log_is_event_log_missing() {
    let mut ev = golden();
    let events = expected_events(&ev, 4);
    ev.event_log = None;
    assert_eq!(
        only_fault(&ev, equals(events, &[])).name,
        FaultName::EventLogMissing
    );
}

#[test]
fn event_log_rules_need_the_pcr_to_be_explained_by_the_log() {
    let ev = golden();
    // PCR 10 is quoted (IMA extends it) but the boot log never touches it.
    let rule = Rule::EventLogEquals {
        bank: HashAlg::Sha256,
        index: 10,
        events: vec![],
        excluding_types: vec![],
    };
    assert_eq!(
        only_fault(&ev, rule).name,
        FaultName::EventLogReplayMismatch
    );
    let rule = Rule::EventLogEquals {
        bank: HashAlg::Sha384,
        index: 4,
        events: vec![],
        excluding_types: vec![],
    };
    assert_eq!(only_fault(&ev, rule).name, FaultName::PcrValueMissing);
}

#[test]
fn event_log_includes_passes_on_a_subset_and_names_what_is_missing() {
    let ev = golden();
    let kernel = expected_events(&ev, 4).pop().unwrap();
    let includes = |events| Rule::EventLogIncludes {
        bank: HashAlg::Sha256,
        index: 4,
        events,
    };
    assert!(check_rule(&ev, includes(vec![kernel.clone()])).trusted);

    let other = ExpectedEvent {
        digest: Digest(vec![9; 32]),
        ..kernel.clone()
    };
    let f = only_fault(&ev, includes(vec![kernel, other.clone()]));
    assert_eq!(f.name, FaultName::EventLogMissingExpectedEntries);
    assert_eq!(f.missing_entries, vec![other]);

    assert_eq!(only_fault(&ev, includes(vec![])).name, FaultName::EmptyRule);
}

#[test]
fn asset_tag_matches_only_the_tag_the_quote_covered() {
    let mut ev = golden();
    let issued = Digest(vec![7; 32]);
    let rule = || Rule::AssetTagMatches {
        digest: issued.clone(),
    };
    assert_eq!(
        only_fault(&ev, rule()).name,
        FaultName::AssetTagMismatch,
        "none presented"
    );
    ev.host.asset_tag = Some(Digest(vec![8; 32]));
    let f = only_fault(&ev, rule());
    assert_eq!(f.name, FaultName::AssetTagMismatch, "another tag");
    assert_eq!(f.expected.as_deref(), Some(issued.hex().as_str()));
    ev.host.asset_tag = Some(issued.clone());
    let report = check_rule(&ev, rule());
    assert!(report
        .results
        .iter()
        .any(|r| r.rule == ironroot_verifier::RuleId::AssetTagMatches && r.trusted));
}

#[test]
fn a_flavor_without_rules_never_matches() {
    let ev = golden();
    let report = check(
        &ev,
        &[
            flavor(FlavorPart::Platform, 1, vec![]),
            flavor(FlavorPart::Os, 1, vec![pcr0_rule(&ev, true)]),
        ],
    );
    assert!(!report.trusted);
    assert!(fault_names(&report).contains(&FaultName::EmptyRule));
}
