use super::*;

// swtpm output, made by tests/fixtures/regen.sh.
const AK_RSA: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.pub");
const AK_RSA_NAME: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.name");
const AK_RSA_QNAME: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.qname");
const AK_ECC: &[u8] = include_bytes!("../tests/fixtures/ak-ecc.pub");
const AK_ECC_NAME: &[u8] = include_bytes!("../tests/fixtures/ak-ecc.name");
const EK_RSA: &[u8] = include_bytes!("../tests/fixtures/ek-rsa.pub");
const EK_ECC: &[u8] = include_bytes!("../tests/fixtures/ek-ecc.pub");

const AES_128_CFB: SymDef = SymDef {
    algorithm: alg::AES,
    key_bits: 128,
    mode: alg::CFB,
};

#[test]
fn rsa_ak_name_matches_tpm_and_is_restricted_signing() {
    let ak = TpmPublic::parse(AK_RSA).unwrap();
    assert_eq!(ak.name(), AK_RSA_NAME);
    assert!(ak.is_restricted_signing_key());
    assert!(!ak.is_restricted_decryption_key());
    assert_eq!(
        ak.scheme(),
        Scheme {
            scheme: alg::RSASSA,
            hash_alg: alg::SHA256
        }
    );
    assert_eq!(ak.rsa_key().unwrap().bits(), 2048);
    assert!(ak.ecc_key().is_none());
    assert_eq!(ak.symmetric(), None);
    assert_eq!(ak.to_tpm2b().unwrap(), AK_RSA);
}

#[test]
fn ecc_ak_name_matches_tpm() {
    let ak = TpmPublic::parse(AK_ECC).unwrap();
    assert_eq!(ak.name(), AK_ECC_NAME);
    assert!(ak.is_restricted_signing_key());
    assert_eq!(
        ak.scheme(),
        Scheme {
            scheme: alg::ECDSA,
            hash_alg: alg::SHA256
        }
    );
    assert_eq!(ak.ecc_key().unwrap().curve, EcCurve::P256);
}

#[test]
fn tcg_ek_templates_are_restricted_decryption_keys_with_aes_cfb() {
    for bytes in [EK_RSA, EK_ECC] {
        let ek = TpmPublic::parse(bytes).unwrap();
        assert!(ek.is_restricted_decryption_key());
        assert!(!ek.is_restricted_signing_key());
        assert_eq!(ek.symmetric(), Some(AES_128_CFB));
        assert_eq!(ek.name_alg(), HashAlg::Sha256);
        assert!(ek.attributes().has(ObjectAttributes::ADMIN_WITH_POLICY));
        assert_eq!(
            ek.auth_policy().len(),
            32,
            "TCG EK policy is PolicySecret(endorsement)"
        );
    }
    assert!(TpmPublic::parse(EK_ECC).unwrap().ecc_key().is_some());
    assert!(TpmPublic::parse(EK_RSA).unwrap().rsa_key().is_some());
}

#[test]
fn ak_qualified_name_chains_from_endorsement_hierarchy_through_ek() {
    let ek = TpmPublic::parse(EK_RSA).unwrap();
    let ak = TpmPublic::parse(AK_RSA).unwrap();
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    assert_eq!(
        qualified_name(&ek_qn, &ak.name(), ak.name_alg()),
        AK_RSA_QNAME
    );
}

#[test]
fn bare_tpmt_parses_to_the_same_name() {
    let ak = TpmPublic::parse(AK_RSA).unwrap();
    assert_eq!(
        TpmPublic::parse_tpmt(&AK_RSA[2..]).unwrap().name(),
        ak.name()
    );
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for bytes in [AK_RSA, AK_ECC, EK_RSA, EK_ECC] {
        for n in 0..bytes.len() {
            assert!(TpmPublic::parse(&bytes[..n]).is_err(), "prefix {n}");
            assert!(
                TpmPublic::parse_tpmt(&bytes[2..2 + n.saturating_sub(2)]).is_err(),
                "tpmt prefix {n}"
            );
        }
    }
}

#[test]
fn trailing_bytes_inside_and_outside_the_tpm2b_are_refused() {
    let mut outside = AK_RSA.to_vec();
    outside.push(0);
    assert_eq!(TpmPublic::parse(&outside), Err(WireError::TrailingBytes));
    let mut inside = AK_RSA[2..].to_vec();
    inside.push(0);
    assert_eq!(
        TpmPublic::parse_tpmt(&inside),
        Err(WireError::TrailingBytes)
    );
}

#[test]
fn unknown_object_type_and_name_alg_are_unsupported() {
    let mut bad_type = AK_RSA[2..].to_vec();
    bad_type[..2].copy_from_slice(&0x0099u16.to_be_bytes());
    assert_eq!(
        TpmPublic::parse_tpmt(&bad_type),
        Err(WireError::UnsupportedAlgorithm(0x0099))
    );
    let mut null_name_alg = AK_RSA[2..].to_vec();
    null_name_alg[2..4].copy_from_slice(&alg::NULL.to_be_bytes());
    assert_eq!(
        TpmPublic::parse_tpmt(&null_name_alg),
        Err(WireError::UnsupportedAlgorithm(alg::NULL))
    );
}

#[test]
fn keyedhash_and_symcipher_objects_parse() {
    // KEYEDHASH, sha256, HMAC(sha256) scheme, empty policy, unique digest of 2 bytes.
    let keyed = [
        0, 8, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0x0b, 0, 2, 0xaa, 0xbb,
    ];
    let k = TpmPublic::parse_tpmt(&keyed).unwrap();
    assert_eq!(
        k.scheme(),
        Scheme {
            scheme: alg::HMAC,
            hash_alg: alg::SHA256
        }
    );
    assert_eq!(k.unique(), &Unique::Digest(vec![0xaa, 0xbb]));
    // SYMCIPHER with AES-128-CFB.
    let sym = [
        0, 0x25, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0x80, 0, 0x43, 0, 0,
    ];
    assert_eq!(
        TpmPublic::parse_tpmt(&sym).unwrap().symmetric(),
        Some(AES_128_CFB)
    );
}

#[test]
fn hierarchy_qualified_name_is_the_handle() {
    assert_eq!(
        hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        [0x40, 0, 0, 0x0b]
    );
    assert_eq!(hierarchy_qualified_name(TPM_RH_OWNER), [0x40, 0, 0, 0x01]);
}
