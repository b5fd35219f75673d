//! The swtpm runner: restart and power cycle behave like a TPM reboot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestTpm;
use ironroot_crypto::HashAlg;
use ironroot_tpm::{EsapiTpm, TpmDevice};
use std::collections::BTreeMap;
use tss_esapi::structures::Attest;
use tss_esapi::traits::UnMarshall;

fn reset_count_and_pcr10(tpm: &mut EsapiTpm) -> (u32, Vec<u8>) {
    let quote = tpm.quote(b"n", &[(HashAlg::Sha256, vec![10])]).unwrap();
    let attest = Attest::unmarshall(&quote.attest).unwrap();
    (
        attest.clock_info().reset_count(),
        quote.pcrs.get(HashAlg::Sha256, 10).unwrap().0.clone(),
    )
}

#[test]
fn restart_and_power_cycle_reset_the_tpm_but_keep_persistent_state() {
    let Some(mut t) = TestTpm::start("reboot") else {
        return;
    };
    let mut tpm = t.open();
    let ak = tpm.attestation_key().unwrap();
    tpm.pcr_extend(10, &BTreeMap::from([(HashAlg::Sha256, vec![9u8; 32])]))
        .unwrap();
    let (count0, pcr0) = reset_count_and_pcr10(&mut tpm);
    assert_ne!(pcr0, vec![0u8; 32]);
    drop(tpm);

    t.swtpm.restart().unwrap();
    let mut tpm = t.open();
    assert_eq!(tpm.attestation_key().unwrap(), ak);
    let (count1, pcr1) = reset_count_and_pcr10(&mut tpm);
    assert!(count1 > count0, "resetCount {count0} -> {count1}");
    assert_eq!(pcr1, vec![0u8; 32]);

    tpm.pcr_extend(10, &BTreeMap::from([(HashAlg::Sha256, vec![9u8; 32])]))
        .unwrap();
    drop(tpm);
    t.swtpm.power_cycle().unwrap();
    let mut tpm = t.open();
    let (count2, pcr2) = reset_count_and_pcr10(&mut tpm);
    assert!(count2 > count1, "resetCount {count1} -> {count2}");
    assert_eq!(pcr2, vec![0u8; 32]);
}

#[test]
fn stop_is_idempotent_and_frees_the_port() {
    let Some(mut t) = TestTpm::start("stop") else {
        return;
    };
    let port = t.swtpm.port();
    t.swtpm.stop().unwrap();
    t.swtpm.stop().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
