//! The `ima_files` rule: passes, and each fault it can raise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use ironroot_verifier::{Evidence, Fault, FaultName, FlavorPart, Rule};
use std::collections::BTreeMap;

fn only_fault(ev: &Evidence, rule: Rule) -> Fault {
    let report = check_rule(ev, rule);
    assert!(!report.trusted);
    let mut faults = report.failed_faults().filter(|(r, _)| {
        r.part == Some(FlavorPart::Platform) && r.rule != ironroot_verifier::RuleId::MatchPolicy
    });
    let (_, fault) = faults.next().unwrap();
    assert!(faults.next().is_none());
    fault.clone()
}

fn ima_rule(files: &[(&str, &[u8])]) -> Rule {
    let files: BTreeMap<String, Vec<Digest>> = files
        .iter()
        .map(|(p, content)| {
            (
                p.to_string(),
                vec![Digest(ironroot_crypto::digest(HashAlg::Sha256, content))],
            )
        })
        .collect();
    Rule::ImaFiles {
        hash: HashAlg::Sha256,
        files,
    }
}

#[test]
fn ima_files_passes_and_ignores_unlisted_paths() {
    let ev = golden();
    assert!(
        check_rule(
            &ev,
            ima_rule(&[
                (RUNC, b"runc 1.1.12"),
                ("/usr/bin/containerd", b"containerd 1.7")
            ])
        )
        .trusted
    );
}

#[test]
fn ima_files_digest_mismatch_names_path_and_both_digests() {
    let ev = golden();
    let f = only_fault(&ev, ima_rule(&[(RUNC, b"runc 1.1.13")]));
    assert_eq!(f.name, FaultName::ImaFileDigestMismatch);
    assert_eq!(f.path.as_deref(), Some(RUNC));
    assert_eq!(
        f.expected,
        Some(hex::encode(ironroot_crypto::digest(
            HashAlg::Sha256,
            b"runc 1.1.13"
        )))
    );
    assert_eq!(
        f.actual,
        Some(hex::encode(ironroot_crypto::digest(
            HashAlg::Sha256,
            b"runc 1.1.12"
        )))
    );
    assert!(
        f.description
            .starts_with("/usr/sbin/runc measured with sha256 "),
        "{}",
        f.description
    );
}

#[test]
fn ima_files_faults_a_listed_file_never_measured_and_a_wrong_algorithm() {
    let ev = golden();
    let f = only_fault(&ev, ima_rule(&[("/usr/bin/crun", b"crun")]));
    assert_eq!(
        (f.name, f.path.as_deref()),
        (FaultName::ImaFileMissing, Some("/usr/bin/crun"))
    );

    let Rule::ImaFiles { files, .. } = ima_rule(&[(RUNC, b"runc 1.1.12")]) else {
        unreachable!()
    };
    let f = only_fault(
        &ev,
        Rule::ImaFiles {
            hash: HashAlg::Sha1,
            files,
        },
    );
    assert_eq!(f.name, FaultName::ImaFileDigestMismatch);
}

#[test]
fn ima_files_without_a_list_or_with_no_files_fails() {
    let mut ev = golden();
    assert_eq!(
        only_fault(
            &ev,
            Rule::ImaFiles {
                hash: HashAlg::Sha256,
                files: BTreeMap::new()
            }
        )
        .name,
        FaultName::EmptyRule
    );
    ev.ima = None;
    assert_eq!(
        only_fault(&ev, ima_rule(&[(RUNC, b"runc 1.1.12")])).name,
        FaultName::ImaLogMissing
    );
}
