//! Endorsement and attestation keys on a freshly manufactured swtpm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestTpm;
use ironroot_tpm::{AkConfig, AkKind, EkKind, EsapiTpm, TpmDevice, TpmError};
use tss_esapi::structures::Public;
use tss_esapi::traits::UnMarshall;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

fn unmarshal_public(tpm2b: &[u8]) -> Public {
    let size = u16::from_be_bytes([tpm2b[0], tpm2b[1]]) as usize;
    assert_eq!(size, tpm2b.len() - 2, "TPM2B size prefix");
    Public::unmarshall(&tpm2b[2..]).unwrap()
}

#[test]
fn ek_certificates_from_swtpm_setup_match_the_ek_public_keys() {
    let Some(t) = TestTpm::start("ek-certs") else {
        return;
    };
    let mut tpm = t.open();

    let rsa = tpm.endorsement_key(EkKind::Rsa2048).unwrap();
    let der = rsa.certificate.expect("RSA EK certificate at 0x01c00002");
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let Public::Rsa { unique, .. } = unmarshal_public(&rsa.public) else {
        panic!("RSA EK is not RSA")
    };
    match cert.public_key().parsed().unwrap() {
        PublicKey::RSA(key) => assert_eq!(
            key.modulus.strip_prefix(&[0]).unwrap_or(key.modulus),
            unique.value()
        ),
        other => panic!("RSA EK certificate holds {other:?}"),
    }

    // swtpm_setup's ECC EK is NIST P-384 (certificate at 0x01c00016).
    let ecc = tpm.endorsement_key(EkKind::EccP384).unwrap();
    let der = ecc.certificate.expect("ECC EK certificate at 0x01c00016");
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let Public::Ecc { unique, .. } = unmarshal_public(&ecc.public) else {
        panic!("ECC EK is not ECC")
    };
    let mut point = vec![4u8];
    point.extend_from_slice(unique.x().value());
    point.extend_from_slice(unique.y().value());
    match cert.public_key().parsed().unwrap() {
        PublicKey::EC(p) => assert_eq!(p.data(), point.as_slice()),
        other => panic!("ECC EK certificate holds {other:?}"),
    }

    // Both certificates are issued by the local CA's intermediate.
    let issuer_pem = std::fs::read(&t.ca.issuer_cert).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&issuer_pem).unwrap();
    let issuer = pem.parse_x509().unwrap();
    assert_eq!(cert.issuer(), issuer.subject());
    assert!(t.ca.root_cert.is_file());
}

#[test]
fn p256_ek_is_derivable_without_a_certificate_and_is_stable() {
    let Some(t) = TestTpm::start("ek-p256") else {
        return;
    };
    let mut tpm = t.open();
    let first = tpm.endorsement_key(EkKind::EccP256).unwrap();
    assert_eq!(first.certificate, None);
    assert_eq!(tpm.endorsement_key(EkKind::EccP256).unwrap(), first);
    assert!(matches!(
        unmarshal_public(&first.public),
        Public::Ecc { .. }
    ));
}

#[test]
fn attestation_key_persists_across_reopen_and_tpm_restart_until_reset() {
    let Some(mut t) = TestTpm::start("ak-persist") else {
        return;
    };
    let mut tpm = t.open();
    let ak = tpm.attestation_key().unwrap();
    assert_eq!(ak.handle, 0x8101_0002);
    assert_eq!(&ak.name[..2], &[0x00, 0x0b], "SHA-256 name");
    let public = unmarshal_public(&ak.public);
    let attrs = public.object_attributes();
    assert!(attrs.restricted() && attrs.sign_encrypt() && attrs.fixed_tpm() && !attrs.decrypt());
    assert_eq!(
        tpm.attestation_key().unwrap(),
        ak,
        "second call loads, does not create"
    );
    drop(tpm);

    assert_eq!(
        t.open().attestation_key().unwrap(),
        ak,
        "same AK after reopening the context"
    );
    t.swtpm.restart().unwrap();
    let mut tpm = t.open();
    assert_eq!(
        tpm.attestation_key().unwrap(),
        ak,
        "same AK after a TPM reboot"
    );

    tpm.reset_attestation_key().unwrap();
    tpm.reset_attestation_key().unwrap(); // nothing there: still fine
    let fresh = tpm.attestation_key().unwrap();
    assert_ne!(
        fresh.name, ak.name,
        "reset makes the next call create a new key"
    );
}

#[test]
fn ecc_attestation_key_at_a_configured_handle_and_kind_mismatch_is_refused() {
    let Some(t) = TestTpm::start("ak-ecc") else {
        return;
    };
    let ecc = AkConfig {
        kind: AkKind::EccP256,
        handle: 0x8101_0010,
    };
    let mut tpm = EsapiTpm::open(&t.swtpm.tcti(), ecc).unwrap();
    let ak = tpm.attestation_key().unwrap();
    assert_eq!(ak.handle, 0x8101_0010);
    assert!(matches!(unmarshal_public(&ak.public), Public::Ecc { .. }));
    drop(tpm);

    let rsa_same_handle = AkConfig {
        kind: AkKind::Rsa2048,
        handle: 0x8101_0010,
    };
    let mut tpm = EsapiTpm::open(&t.swtpm.tcti(), rsa_same_handle).unwrap();
    assert!(matches!(
        tpm.attestation_key(),
        Err(TpmError::AttestationKeyMismatch { .. })
    ));
}

#[test]
fn quote_without_an_attestation_key_says_so() {
    let Some(t) = TestTpm::start("ak-missing") else {
        return;
    };
    let mut tpm = t.open();
    let err = tpm
        .quote(b"nonce", &[(ironroot_crypto::HashAlg::Sha256, vec![0])])
        .unwrap_err();
    assert!(
        matches!(err, TpmError::NoAttestationKey(0x8101_0002)),
        "{err}"
    );
}
