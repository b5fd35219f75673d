//! PCR banks, extends, resets and quotes on swtpm; quotes cross-checked with tpm2_checkquote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDir, TestTpm};
use ironroot_crypto::{HashAlg, Hasher, RsaPublicKey};
use ironroot_tpm::{TpmDevice, TpmError};
use std::collections::BTreeMap;
use tss_esapi::structures::{Attest, AttestInfo, Public, Signature};
use tss_esapi::traits::UnMarshall;

fn all_pcrs(banks: &[HashAlg]) -> Vec<(HashAlg, Vec<u32>)> {
    banks.iter().map(|b| (*b, (0..24).collect())).collect()
}

#[test]
fn banks_are_the_ones_swtpm_setup_allocated() {
    let Some(t) = TestTpm::start("banks") else {
        return;
    };
    assert_eq!(
        t.open().banks().unwrap(),
        vec![HashAlg::Sha1, HashAlg::Sha256]
    );
}

#[test]
fn extend_changes_exactly_the_extended_pcr_in_every_bank() {
    let Some(t) = TestTpm::start("extend") else {
        return;
    };
    let mut tpm = t.open();
    let banks = tpm.banks().unwrap();
    // 48 PCRs: more than one TPM2_PCR_Read can return.
    let before = tpm.pcr_read(&all_pcrs(&banks)).unwrap();
    assert_eq!(before.0.values().map(|b| b.len()).sum::<usize>(), 48);

    let digests: BTreeMap<HashAlg, Vec<u8>> = banks
        .iter()
        .map(|b| (*b, ironroot_crypto::digest(*b, b"measured thing")))
        .collect();
    tpm.pcr_extend(10, &digests).unwrap();
    let after = tpm.pcr_read(&all_pcrs(&banks)).unwrap();

    let mut expected = before.clone();
    for (bank, digest) in &digests {
        expected.extend(*bank, 10, digest);
    }
    assert_eq!(after, expected);
    assert_ne!(after, before);
}

#[test]
fn only_pcr_16_and_23_reset_and_unallocated_banks_are_reported() {
    let Some(t) = TestTpm::start("reset") else {
        return;
    };
    let mut tpm = t.open();
    let digest = BTreeMap::from([(HashAlg::Sha256, vec![7u8; 32])]);
    tpm.pcr_extend(16, &digest).unwrap();
    tpm.pcr_reset(16).unwrap();
    let value = tpm.pcr_read(&[(HashAlg::Sha256, vec![16])]).unwrap();
    assert_eq!(value.get(HashAlg::Sha256, 16).unwrap().0, vec![0u8; 32]);
    assert!(matches!(tpm.pcr_reset(10), Err(TpmError::PcrIndex(10))));
    assert!(matches!(
        tpm.pcr_read(&[(HashAlg::Sha384, vec![0])]),
        Err(TpmError::BankNotAllocated(HashAlg::Sha384))
    ));
    assert!(tpm
        .pcr_extend(10, &BTreeMap::from([(HashAlg::Sha256, vec![1u8; 20])]))
        .is_err());
}

#[test]
fn quote_signature_nonce_and_pcr_digest_verify() {
    let Some(t) = TestTpm::start("quote") else {
        return;
    };
    let mut tpm = t.open();
    let ak = tpm.attestation_key().unwrap();
    let selection = vec![
        (HashAlg::Sha256, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        (HashAlg::Sha1, vec![10]),
    ];
    tpm.pcr_extend(
        10,
        &BTreeMap::from([
            (HashAlg::Sha256, vec![3u8; 32]),
            (HashAlg::Sha1, vec![3u8; 20]),
        ]),
    )
    .unwrap();
    let nonce = b"0123456789abcdef";
    let quote = tpm.quote(nonce, &selection).unwrap();

    // Our own check: signature with the AK, nonce, and PCR digest over the returned values.
    let attest = Attest::unmarshall(&quote.attest).unwrap();
    assert_eq!(attest.extra_data().value(), nonce);
    let AttestInfo::Quote { info } = attest.attested() else {
        panic!("not a quote")
    };
    let mut hasher = Hasher::new(HashAlg::Sha256);
    for sel in info.pcr_selection().get_selections() {
        let bank = match sel.hashing_algorithm() {
            tss_esapi::interface_types::algorithm::HashingAlgorithm::Sha1 => HashAlg::Sha1,
            _ => HashAlg::Sha256,
        };
        for slot in sel.selected() {
            hasher.update(
                &quote
                    .pcrs
                    .get(bank, u32::from(slot).trailing_zeros())
                    .unwrap()
                    .0,
            );
        }
    }
    assert_eq!(hasher.finish(), info.pcr_digest().value());
    assert_eq!(quote.pcrs.0[&HashAlg::Sha256].len(), 11);
    let Public::Rsa {
        unique, parameters, ..
    } = Public::unmarshall(&ak.public[2..]).unwrap()
    else {
        panic!()
    };
    let key = RsaPublicKey::from_tpm(unique.value(), parameters.exponent().value());
    let Signature::RsaSsa(sig) = Signature::unmarshall(&quote.signature).unwrap() else {
        panic!("not RSASSA")
    };
    key.verify_pkcs1(HashAlg::Sha256, &quote.attest, sig.signature().value())
        .unwrap();

    // The verifier's own check (ironroot-tpm-wire), as the server will run it.
    let ak_public = ironroot_tpm_wire::TpmPublic::parse(&ak.public).unwrap();
    let verified = ironroot_tpm_wire::verify_quote(
        &ak_public,
        None,
        &quote.attest,
        &quote.signature,
        nonce,
        &quote.pcrs,
    )
    .unwrap();
    assert_eq!(verified.pcrs(), &quote.pcrs);
    assert!(ironroot_tpm_wire::verify_quote(
        &ak_public,
        None,
        &quote.attest,
        &quote.signature,
        b"other",
        &quote.pcrs
    )
    .is_err());

    // Independent check with tpm2-tools (signature and nonce).
    let dir = TestDir::new("quote-files");
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let (akf, msg, sigf) = (
        file("ak.pub", &ak.public),
        file("quote.msg", &quote.attest),
        file("quote.sig", &quote.signature),
    );
    let args = [
        "tpm2_checkquote",
        "-u",
        &akf,
        "-m",
        &msg,
        "-s",
        &sigf,
        "-g",
        "sha256",
        "-q",
        &hex::encode(nonce),
    ];
    if let Some(out) = common::tool(None, &args) {
        assert!(
            out.status.success(),
            "tpm2_checkquote: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let wrong_nonce = common::tool(None, &[&args[..10], &["00"]].concat()).unwrap();
        assert!(
            !wrong_nonce.status.success(),
            "tpm2_checkquote accepted a wrong nonce"
        );
    }
}
