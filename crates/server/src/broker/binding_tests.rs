use super::*;
use ironroot_tpm_wire::{ObjectAttributes, TPM_RH_NULL, TPM_RH_OWNER};

// swtpm output, made by crates/tpm-wire/tests/fixtures/regen.sh.
const EK_RSA: &[u8] = include_bytes!("../../../tpm-wire/tests/fixtures/ek-rsa.pub");
const AK_RSA_QNAME: &[u8] = include_bytes!("../../../tpm-wire/tests/fixtures/ak-rsa.qname");

/// The agent's binding key template: fixedTPM, fixedParent, sensitiveDataOrigin,
/// userWithAuth, decrypt.
const BINDING_ATTRIBUTES: u32 = ObjectAttributes::FIXED_TPM
    | ObjectAttributes::FIXED_PARENT
    | ObjectAttributes::SENSITIVE_DATA_ORIGIN
    | ObjectAttributes::USER_WITH_AUTH
    | ObjectAttributes::DECRYPT;

/// A TPM2B_PUBLIC of an RSA OAEP-SHA256 key, marshalled by hand.
fn rsa_public(attributes: u32, key_bits: u16, exponent: u32, modulus: &[u8]) -> TpmPublic {
    let mut t = Vec::new();
    t.extend(0x0001u16.to_be_bytes()); // TPM_ALG_RSA
    t.extend(0x000Bu16.to_be_bytes()); // nameAlg sha256
    t.extend(attributes.to_be_bytes());
    t.extend(0u16.to_be_bytes()); // empty authPolicy
    t.extend(0x0010u16.to_be_bytes()); // symmetric NULL
    t.extend(0x0017u16.to_be_bytes()); // scheme OAEP
    t.extend(0x000Bu16.to_be_bytes()); // with sha256
    t.extend(key_bits.to_be_bytes());
    t.extend(exponent.to_be_bytes());
    t.extend(u16::try_from(modulus.len()).unwrap().to_be_bytes());
    t.extend(modulus);
    let mut b = u16::try_from(t.len()).unwrap().to_be_bytes().to_vec();
    b.extend(t);
    TpmPublic::parse(&b).unwrap()
}

/// A 2048-bit odd modulus (not a real key: only its size is checked here).
fn modulus_2048() -> Vec<u8> {
    let mut m = vec![0x5a; 256];
    m[0] = 0xc3;
    m[255] = 0x01;
    m
}

#[test]
fn a_binding_key_whose_modulus_is_shorter_than_its_key_bits_is_refused() {
    let good = rsa_public(BINDING_ATTRIBUTES, 2048, 0, &modulus_2048());
    let rsa = check_shape(&good).unwrap();
    assert_eq!(rsa.bits(), 2048);

    // 512 bits under a 2048-bit claim: factorable, and the key would be readable by all.
    let mut short = vec![0xc3; 64];
    short[63] = 0x01;
    // 256 bytes, but a leading zero: 2040 bits at most.
    let mut padded = modulus_2048();
    padded[0] = 0;
    // 2048 bits but even: not an RSA modulus.
    let mut even = modulus_2048();
    even[255] = 0x02;
    for (what, m) in [("short", short), ("padded", padded), ("even", even)] {
        let key = rsa_public(BINDING_ATTRIBUTES, 2048, 0, &m);
        assert_eq!(
            check_shape(&key).err(),
            Some("its modulus is not the 2048-bit odd number its keyBits claim"),
            "{what}"
        );
    }
    let small_claim = rsa_public(BINDING_ATTRIBUTES, 1024, 0, &modulus_2048()[..128]);
    assert_eq!(
        check_shape(&small_claim).err(),
        Some("it must be an RSA-2048 key")
    );
    let e3 = rsa_public(BINDING_ATTRIBUTES, 2048, 3, &modulus_2048());
    assert!(check_shape(&e3).is_err());
}

#[test]
fn a_binding_key_that_is_not_a_tpm_generated_decrypt_only_key_is_refused() {
    let without = |bit: u32| rsa_public(BINDING_ATTRIBUTES & !bit, 2048, 0, &modulus_2048());
    for bit in [
        ObjectAttributes::FIXED_TPM,
        ObjectAttributes::FIXED_PARENT,
        ObjectAttributes::SENSITIVE_DATA_ORIGIN,
        ObjectAttributes::DECRYPT,
    ] {
        assert!(check_shape(&without(bit)).is_err(), "{bit:#x}");
    }
    let signing = rsa_public(
        BINDING_ATTRIBUTES | ObjectAttributes::SIGN,
        2048,
        0,
        &modulus_2048(),
    );
    assert!(check_shape(&signing).is_err());
    let restricted = rsa_public(
        BINDING_ATTRIBUTES | ObjectAttributes::RESTRICTED,
        2048,
        0,
        &modulus_2048(),
    );
    assert!(check_shape(&restricted).is_err());
}

#[test]
fn a_binding_key_certified_outside_the_hosts_ek_or_by_another_signer_is_refused() {
    let ek = TpmPublic::parse(EK_RSA).unwrap();
    let key = rsa_public(BINDING_ATTRIBUTES, 2048, 0, &modulus_2048());
    let under = |parent_qn: &[u8]| qualified_name(parent_qn, &key.name(), key.name_alg());
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    let genuine = under(&ek_qn);
    assert_eq!(
        check_lineage(&ek, AK_RSA_QNAME, &key, &genuine, AK_RSA_QNAME),
        Ok(())
    );
    // The same public area loaded elsewhere: as an external key (null hierarchy), as a
    // primary of the owner hierarchy, or as a child of the AK.
    for wrong in [
        under(&hierarchy_qualified_name(TPM_RH_NULL)),
        under(&hierarchy_qualified_name(TPM_RH_OWNER)),
        under(AK_RSA_QNAME),
    ] {
        assert_eq!(
            check_lineage(&ek, AK_RSA_QNAME, &key, &wrong, AK_RSA_QNAME),
            Err("the TPM certified it under a parent other than this node's endorsement key")
        );
    }
    // Certified by some other key than the enrolled AK.
    let other_signer = under(&hierarchy_qualified_name(TPM_RH_OWNER));
    assert_eq!(
        check_lineage(&ek, AK_RSA_QNAME, &key, &genuine, &other_signer),
        Err("it was certified by a key other than this node's enrolled attestation key")
    );
}
