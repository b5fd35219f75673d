//! The built-in log-integrity rules, which run whatever the flavors say.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::PcrValues;
use ironroot_verifier::{Evidence, FaultName, FlavorPart, RuleId, TrustReport};

/// PLATFORM and OS flavors that pass on golden evidence whatever its logs say.
fn report(ev: &Evidence) -> TrustReport {
    let g = golden();
    check(
        ev,
        &[
            flavor(FlavorPart::Platform, 1, vec![pcr0_rule(&g, true)]),
            flavor(FlavorPart::Os, 1, vec![pcr0_rule(&g, true)]),
        ],
    )
}

fn integrity_faults(r: &TrustReport, rule: RuleId) -> Vec<(FaultName, Option<u32>)> {
    r.results
        .iter()
        .filter(|x| x.rule == rule)
        .flat_map(|x| &x.faults)
        .map(|f| (f.name, f.pcr_index))
        .collect()
}

#[test]
fn golden_evidence_passes_both_integrity_rules() {
    let r = report(&golden());
    assert!(r.trusted, "{r:#?}");
    for rule in [RuleId::EventLogIntegrity, RuleId::ImaLogIntegrity] {
        assert!(
            r.results.iter().any(|x| x.rule == rule && x.trusted),
            "{rule}"
        );
    }
}

#[test]
fn a_log_that_does_not_replay_to_the_quote_is_untrusted_even_if_flavors_pass() {
    let mut ev = golden();
    ev.quoted.set(HashAlg::Sha256, 4, vec![0xaa; 32]);
    let r = report(&ev);
    assert!(!r.trusted);
    assert_eq!(
        integrity_faults(&r, RuleId::EventLogIntegrity),
        vec![(FaultName::EventLogReplayMismatch, Some(4))]
    );
    let f = r.failed_faults().next().unwrap().1;
    assert_eq!(f.actual, Some("aa".repeat(32)));
}

#[test]
fn a_pcr_the_log_extends_but_the_quote_lacks_is_a_fault() {
    let mut ev = golden();
    ev.quoted.0.get_mut(&HashAlg::Sha256).unwrap().remove(&9);
    let r = report(&ev);
    assert!(!r.trusted);
    assert_eq!(
        integrity_faults(&r, RuleId::EventLogIntegrity),
        vec![(FaultName::PcrValueMissing, Some(9))]
    );
}

#[test]
fn a_quote_sharing_no_bank_with_the_log_is_a_fault() {
    let mut ev = golden();
    let mut q = PcrValues::default();
    q.set(HashAlg::Sha384, 0, vec![0; 48]);
    q.set(HashAlg::Sha384, 10, vec![0; 48]);
    ev.quoted = q;
    let r = report(&ev);
    assert!(!r.trusted);
    assert_eq!(
        integrity_faults(&r, RuleId::EventLogIntegrity),
        vec![(FaultName::PcrValueMissing, None)]
    );
}

#[test]
fn a_log_bank_the_quote_does_not_cover_stays_unproven() {
    let mut ev = golden();
    ev.quoted.0.remove(&HashAlg::Sha1);
    let r = report(&ev);
    assert!(r.trusted, "the sha256 bank proves the log: {r:#?}");
    let sha1_rule = ironroot_verifier::Rule::EventLogEquals {
        bank: HashAlg::Sha1,
        index: 5,
        events: vec![],
        excluding_types: vec![],
    };
    let r = check_rule(&ev, sha1_rule);
    assert!(!r.trusted);
    assert!(fault_names(&r).contains(&FaultName::PcrValueMissing));
}

#[test]
fn an_altered_ima_list_is_untrusted() {
    let mut ev = golden();
    ev.ima.as_mut().unwrap().entries[2] = ima_entry(RUNC, b"runc 1.1.13");
    let r = report(&ev);
    assert!(!r.trusted);
    let faults = integrity_faults(&r, RuleId::ImaLogIntegrity);
    assert_eq!(faults, vec![(FaultName::ImaReplayMismatch, Some(10))]);
    let f = r
        .failed_faults()
        .find(|(x, _)| x.rule == RuleId::ImaLogIntegrity)
        .unwrap()
        .1;
    assert_eq!(
        f.bank,
        Some(HashAlg::Sha256),
        "the strongest bank is the one replayed"
    );
}

#[test]
fn the_ima_list_is_proven_by_its_strongest_bank_alone() {
    let mut ev = golden();
    ev.quoted.set(HashAlg::Sha1, 10, vec![0xee; 20]);
    assert!(report(&ev).trusted);
}

#[test]
fn an_ima_list_without_quoted_pcr_10_is_a_fault() {
    let mut ev = golden();
    for bank in ev.quoted.0.values_mut() {
        bank.remove(&10);
    }
    let r = report(&ev);
    assert!(!r.trusted);
    assert_eq!(
        integrity_faults(&r, RuleId::ImaLogIntegrity),
        vec![(FaultName::PcrValueMissing, None)]
    );
}

#[test]
fn without_logs_there_is_nothing_to_replay() {
    let mut ev = golden();
    ev.event_log = None;
    ev.ima = None;
    let r = report(&ev);
    assert!(r.trusted, "{r:#?}");
    assert!(r.results.iter().all(|x| !x.rule.is_log_integrity()));
}
