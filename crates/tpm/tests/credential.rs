//! Credential activation (against tpm2-tools' MakeCredential), binding keys, and the
//! no-leaked-handles guarantee, on swtpm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDir, TestTpm};
use ironroot_crypto::{HashAlg, RsaPublicKey};
use ironroot_tpm::{EkKind, TpmDevice};
use tss_esapi::structures::{Attest, AttestInfo, Public, Signature};
use tss_esapi::traits::{Marshall, UnMarshall};

/// Splits a tpm2-tools credential file (magic, version, TPM2B_ID_OBJECT,
/// TPM2B_ENCRYPTED_SECRET) into the two TPM2Bs, each with its size prefix.
fn split_credential_file(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(
        &bytes[..4],
        &[0xba, 0xdc, 0xc0, 0xde],
        "tpm2-tools credential magic"
    );
    let rest = &bytes[8..];
    let id_len = 2 + u16::from_be_bytes([rest[0], rest[1]]) as usize;
    (rest[..id_len].to_vec(), rest[id_len..].to_vec())
}

/// MakeCredential by tpm2-tools for this TPM's RSA EK and AK; `None` without tpm2-tools.
fn make_credential(t: &TestTpm, secret: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut tpm = t.open();
    let ek = tpm.endorsement_key(EkKind::Rsa2048).unwrap();
    let ak = tpm.attestation_key().unwrap();
    let dir = TestDir::new("makecredential");
    let (ek_path, secret_path, out_path) = (
        dir.path().join("ek.pub"),
        dir.path().join("secret"),
        dir.path().join("cred"),
    );
    std::fs::write(&ek_path, &ek.public).unwrap();
    std::fs::write(&secret_path, secret).unwrap();
    let out = common::tool(
        None,
        &[
            "tpm2_makecredential",
            "-T",
            "none",
            "-e",
            ek_path.to_str().unwrap(),
            "-s",
            secret_path.to_str().unwrap(),
            "-n",
            &hex::encode(&ak.name),
            "-o",
            out_path.to_str().unwrap(),
        ],
    )?;
    assert!(
        out.status.success(),
        "tpm2_makecredential: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(split_credential_file(&std::fs::read(out_path).unwrap()))
}

#[test]
fn activate_credential_recovers_the_secret_tpm2_tools_made() {
    let Some(t) = TestTpm::start("activate") else {
        return;
    };
    let Some((id_object, secret)) = make_credential(&t, b"the enrollment secret") else {
        return;
    };
    let mut tpm = t.open();
    let recovered = tpm.activate_credential(&id_object, &secret).unwrap();
    assert_eq!(recovered.as_slice(), b"the enrollment secret");

    let mut tampered = id_object.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(
        tpm.activate_credential(&tampered, &secret).is_err(),
        "integrity check must fail"
    );
    assert!(
        tpm.activate_credential(&id_object[1..], &secret).is_err(),
        "bad size prefix"
    );
}

#[test]
fn activate_credential_recovers_the_secret_ironroot_tpm_wire_made() {
    let Some(t) = TestTpm::start("activate-wire") else {
        return;
    };
    let mut tpm = t.open();
    let ek = tpm.endorsement_key(EkKind::Rsa2048).unwrap();
    let ak = tpm.attestation_key().unwrap();
    let ek_public = ironroot_tpm_wire::TpmPublic::parse(&ek.public).unwrap();
    let made =
        ironroot_tpm_wire::make_credential(&ek_public, &ak.name, b"from the verifier").unwrap();
    let recovered = tpm
        .activate_credential(&made.id_object, &made.encrypted_secret)
        .unwrap();
    assert_eq!(recovered.as_slice(), b"from the verifier");

    // A credential for another object's name is refused by the TPM.
    let mut other_name = ak.name.clone();
    let last = other_name.len() - 1;
    other_name[last] ^= 1;
    let wrong = ironroot_tpm_wire::make_credential(&ek_public, &other_name, b"x").unwrap();
    assert!(tpm
        .activate_credential(&wrong.id_object, &wrong.encrypted_secret)
        .is_err());
}

#[test]
fn certified_binding_key_unbinds_what_was_encrypted_to_it() {
    let Some(t) = TestTpm::start("binding") else {
        return;
    };
    let mut tpm = t.open();
    let ak = tpm.attestation_key().unwrap();
    let key = tpm.create_binding_key().unwrap();
    let public = Public::unmarshall(&key.public[2..]).unwrap();
    let attrs = public.object_attributes();
    assert!(
        attrs.fixed_tpm()
            && attrs.fixed_parent()
            && attrs.decrypt()
            && !attrs.sign_encrypt()
            && !attrs.restricted()
    );

    // The AK certifies exactly this key (by Name), over our nonce.
    let nonce = b"certify-nonce";
    let cert = tpm.certify_binding_key(&key, nonce).unwrap();
    let attest = Attest::unmarshall(&cert.attest).unwrap();
    assert_eq!(attest.extra_data().value(), nonce);
    let AttestInfo::Certify { info } = attest.attested() else {
        panic!("not a certify")
    };
    let mut name = vec![0x00, 0x0b];
    name.extend(ironroot_crypto::digest(
        HashAlg::Sha256,
        &public.marshall().unwrap(),
    ));
    assert_eq!(info.name().value(), name.as_slice());
    let Public::Rsa {
        unique, parameters, ..
    } = Public::unmarshall(&ak.public[2..]).unwrap()
    else {
        panic!()
    };
    let ak_key = RsaPublicKey::from_tpm(unique.value(), parameters.exponent().value());
    let Signature::RsaSsa(sig) = Signature::unmarshall(&cert.signature).unwrap() else {
        panic!("not RSASSA")
    };
    ak_key
        .verify_pkcs1(HashAlg::Sha256, &cert.attest, sig.signature().value())
        .unwrap();

    let ak_public = ironroot_tpm_wire::TpmPublic::parse(&ak.public).unwrap();
    let certified = ironroot_tpm_wire::TpmPublic::parse(&key.public).unwrap();
    ironroot_tpm_wire::verify_certify(&ak_public, &cert.attest, &cert.signature, nonce, &certified)
        .unwrap();

    // Encrypt outside the TPM to the binding key; only the TPM can unbind it.
    let Public::Rsa {
        unique, parameters, ..
    } = public
    else {
        panic!()
    };
    let binding = RsaPublicKey::from_tpm(unique.value(), parameters.exponent().value());
    let ciphertext = binding
        .encrypt_oaep(HashAlg::Sha256, b"TPM2\0", b"volume key")
        .unwrap();
    assert_eq!(
        tpm.unbind(&key, &ciphertext, b"TPM2\0").unwrap().as_slice(),
        b"volume key"
    );
    assert!(
        tpm.unbind(&key, &ciphertext, b"OTHER\0").is_err(),
        "label is bound"
    );
}

#[test]
fn no_transient_handles_or_sessions_leak_after_many_operations() {
    let Some(t) = TestTpm::start("leaks") else {
        return;
    };
    let credential = make_credential(&t, b"leak-test secret");
    let mut tpm = t.open();
    tpm.attestation_key().unwrap();
    let selection = [
        (HashAlg::Sha256, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        (HashAlg::Sha1, vec![0, 1]),
    ];
    for i in 0..50u32 {
        tpm.quote(&i.to_be_bytes(), &selection).unwrap();
    }
    if let Some((id_object, secret)) = &credential {
        for _ in 0..20 {
            assert_eq!(
                tpm.activate_credential(id_object, secret)
                    .unwrap()
                    .as_slice(),
                b"leak-test secret"
            );
        }
        // Failing activations must clean up too.
        let mut bad = id_object.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        for _ in 0..5 {
            assert!(tpm.activate_credential(&bad, secret).is_err());
        }
    }
    let key = tpm.create_binding_key().unwrap();
    for i in 0..10u32 {
        tpm.certify_binding_key(&key, &i.to_be_bytes()).unwrap();
    }
    // Failing unbinds (wrong label) load and flush the key as well.
    for _ in 0..3 {
        assert!(tpm.unbind(&key, &[0u8; 256], b"TPM2\0").is_err());
    }
    let loaded = tpm.loaded_handles().unwrap();
    assert_eq!(loaded.transient_objects, 0, "{loaded:?}");
    assert_eq!(loaded.sessions, 0, "{loaded:?}");

    // The count sees a policy session another client leaves loaded, so zero above means zero.
    let mut raw = tss_esapi::Context::new(t.swtpm.tcti().parse().unwrap()).unwrap();
    let session = raw
        .start_auth_session(
            None,
            None,
            None,
            tss_esapi::constants::SessionType::Policy,
            tss_esapi::structures::SymmetricDefinition::Null,
            tss_esapi::interface_types::algorithm::HashingAlgorithm::Sha256,
        )
        .unwrap()
        .unwrap();
    let loaded = tpm.loaded_handles().unwrap();
    assert_eq!(loaded.sessions, 1, "{loaded:?}");
    raw.flush_context(tss_esapi::handles::SessionHandle::from(session).into())
        .unwrap();
    assert_eq!(tpm.loaded_handles().unwrap().sessions, 0);
}
