//! Flavor creation from a golden host, the file formats, and the tampered-runc scenario.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_crypto::HashAlg;
use ironroot_verifier::{
    flavors_from_host, FaultName, Flavor, FlavorPart, FlavorTemplate, Rule, TemplatePart,
    TrustReport, VerifierError,
};

fn golden_flavors() -> Vec<Flavor> {
    flavors_from_host(&golden(), &FlavorTemplate::default_uefi(), "golden", NOW).unwrap()
}

fn part(flavors: &[Flavor], p: FlavorPart) -> &Flavor {
    flavors.iter().find(|f| f.meta.part == p).unwrap()
}

fn summary(f: &Flavor) -> Vec<String> {
    f.rules
        .iter()
        .map(|r| match r {
            Rule::PcrMatches { bank, index, .. } => format!("pcr_matches {bank} {index}"),
            Rule::EventLogEquals {
                bank,
                index,
                events,
                ..
            } => format!("equals {bank} {index} ({})", events.len()),
            Rule::EventLogIncludes {
                bank,
                index,
                events,
            } => format!("includes {bank} {index} ({})", events.len()),
            Rule::ImaFiles { hash, files } => format!("ima {hash} {}", files.len()),
            other => other.name().to_string(),
        })
        .collect()
}

#[test]
fn the_default_template_makes_four_flavors_in_the_strongest_bank() {
    let flavors = golden_flavors();
    assert_eq!(flavors.len(), 4);
    let pcrs = |ix: &[u32]| {
        ix.iter()
            .map(|i| format!("pcr_matches sha256 {i}"))
            .collect::<Vec<_>>()
    };
    let mut want = pcrs(&[0, 1, 2, 3, 7]);
    want.extend([
        "equals sha256 0 (3)".to_string(),
        "equals sha256 7 (3)".to_string(),
    ]);
    assert_eq!(summary(part(&flavors, FlavorPart::Platform)), want);
    assert_eq!(
        summary(part(&flavors, FlavorPart::Os)),
        ["includes sha256 4 (4)", "includes sha256 9 (2)"]
    );
    let mut want = pcrs(&[8, 9]);
    want.push("equals sha256 8 (1)".to_string());
    assert_eq!(summary(part(&flavors, FlavorPart::HostUnique)), want);
    assert_eq!(
        summary(part(&flavors, FlavorPart::Software)),
        ["ima sha256 3"],
        "boot_aggregate left out, containerd once"
    );
    for f in &flavors {
        assert_eq!(
            f.meta.host_id.is_some(),
            f.meta.part == FlavorPart::HostUnique,
            "{:?}",
            f.meta.part
        );
        assert_eq!((f.meta.created, f.meta.label.as_str()), (NOW, "golden"));
    }
}

#[test]
fn the_golden_host_is_trusted_by_its_own_flavors() {
    let r = check(&golden(), &golden_flavors());
    assert!(r.trusted, "{r:#?}");
    assert_eq!(
        (r.created, r.expires, r.host_id.as_str(), r.reset_count),
        (NOW, NOW + 3600, HOST, 3)
    );
    assert!(r.is_trusted_at(NOW + 10));
    assert!(!r.is_trusted_at(NOW + 3600), "expired");
}

#[test]
fn tampered_runc_is_untrusted_with_a_fault_naming_path_and_digests() {
    let flavors = golden_flavors();
    let tampered = evidence_with(
        boot_log("root=/dev/sda1 ro"),
        ima_list(b"runc 1.1.12 with a backdoor"),
    );
    let r = check(&tampered, &flavors);
    assert!(!r.trusted);
    let faults: Vec<_> = r
        .failed_faults()
        .filter(|(_, f)| f.name == FaultName::ImaFileDigestMismatch)
        .collect();
    assert_eq!(faults.len(), 1, "{r:#?}");
    let (rule, f) = faults[0];
    assert_eq!(
        (rule.rule, rule.part),
        (
            ironroot_verifier::RuleId::ImaFiles,
            Some(FlavorPart::Software)
        )
    );
    assert_eq!(f.path.as_deref(), Some(RUNC));
    let sha = |b: &[u8]| hex::encode(ironroot_crypto::digest(HashAlg::Sha256, b));
    assert_eq!(f.expected, Some(sha(b"runc 1.1.12")));
    assert_eq!(f.actual, Some(sha(b"runc 1.1.12 with a backdoor")));
    assert!(
        f.description
            .contains(&sha(b"runc 1.1.12 with a backdoor")[..16]),
        "{}",
        f.description
    );
}

#[test]
fn another_host_passes_without_the_golden_hosts_unique_flavor() {
    let flavors = golden_flavors();
    let mut other = evidence_with(boot_log("root=/dev/sdb1 ro"), ima_list(b"runc 1.1.12"));
    other.host.host_id = "host-b".into();
    assert!(check(&other, &flavors).trusted);
    other.host.host_id = HOST.into();
    let r = check(&other, &flavors);
    assert!(!r.trusted);
    let names = fault_names(&r);
    assert!(
        names.contains(&FaultName::PcrValueMismatch)
            && names.contains(&FaultName::EventLogContainsUnexpectedEntries),
        "{names:?}"
    );
}

#[test]
fn flavors_are_only_made_from_intact_evidence() {
    let mut ev = golden();
    ev.quoted.set(HashAlg::Sha256, 7, vec![1; 32]);
    let err = flavors_from_host(&ev, &FlavorTemplate::default_uefi(), "x", NOW).unwrap_err();
    assert!(
        matches!(err, VerifierError::EvidenceNotIntact(ref f) if f[0].name == FaultName::EventLogReplayMismatch),
        "{err:?}"
    );
}

#[test]
fn flavor_creation_errors_name_what_is_missing() {
    let t = FlavorTemplate::default_uefi();
    let mut ev = golden();
    ev.ima = None;
    assert_eq!(
        flavors_from_host(&ev, &t, "x", NOW),
        Err(VerifierError::ImaLogMissing)
    );
    ev.event_log = None;
    assert_eq!(
        flavors_from_host(&ev, &t, "x", NOW),
        Err(VerifierError::EventLogMissing)
    );
    let only_pcr = FlavorTemplate {
        parts: vec![TemplatePart {
            part: FlavorPart::Platform,
            pcr_matches: vec![15],
            event_log_equals: vec![],
            event_log_includes: vec![],
            ima: false,
        }],
    };
    assert_eq!(
        flavors_from_host(&ev, &only_pcr, "x", NOW),
        Err(VerifierError::PcrNotQuoted {
            bank: HashAlg::Sha256,
            index: 15
        })
    );
    let nothing = FlavorTemplate {
        parts: vec![TemplatePart {
            pcr_matches: vec![],
            ..only_pcr.parts[0].clone()
        }],
    };
    assert_eq!(
        flavors_from_host(&ev, &nothing, "x", NOW),
        Err(VerifierError::EmptyFlavor(FlavorPart::Platform))
    );
}

#[test]
fn flavors_and_reports_round_trip_through_json() {
    let flavors = golden_flavors();
    let json = serde_json::to_string_pretty(&flavors).unwrap();
    assert!(
        json.contains(r#""part": "HOST_UNIQUE""#) && json.contains(r#""rule": "event_log_equals""#)
    );
    assert_eq!(serde_json::from_str::<Vec<Flavor>>(&json).unwrap(), flavors);

    let tampered = evidence_with(boot_log("root=/dev/sda1 ro"), ima_list(b"evil"));
    let report = check(&tampered, &flavors);
    let json = serde_json::to_string(&report).unwrap();
    assert_eq!(serde_json::from_str::<TrustReport>(&json).unwrap(), report);

    let t = FlavorTemplate::default_uefi();
    assert_eq!(
        serde_json::from_str::<FlavorTemplate>(&serde_json::to_string(&t).unwrap()).unwrap(),
        t
    );
}

#[test]
fn unknown_fields_in_a_flavor_file_are_rejected() {
    let flavor = serde_json::to_value(&golden_flavors()[0]).unwrap();
    let with = |pointer: &str| {
        let mut v = flavor.clone();
        v.pointer_mut(pointer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("surprise".into(), true.into());
        serde_json::from_value::<Flavor>(v)
    };
    assert!(with("").is_err(), "top level");
    assert!(with("/meta").is_err(), "meta");
    assert!(with("/rules/0").is_err(), "a rule");
    assert!(with("/rules/5/events/0").is_err(), "an expected event");
    let mut v = flavor.clone();
    v["rules"][0]["rule"] = "pcr_matches_loosely".into();
    assert!(serde_json::from_value::<Flavor>(v).is_err(), "unknown rule");
}

#[test]
#[ignore = "prints a sample report: cargo test -p ironroot-verifier -- --ignored --nocapture"]
fn print_sample_untrusted_report() {
    let tampered = evidence_with(boot_log("root=/dev/sda1 ro"), ima_list(b"evil"));
    let report = check(&tampered, &golden_flavors());
    for (rule, f) in report.failed_faults() {
        println!("{} {:?}: {}", rule.rule, f.name, f.description);
    }
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
