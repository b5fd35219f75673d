use super::*;

// swtpm output, made by tests/fixtures/regen.sh.
const AK_RSA: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.pub");
const AK_RSA_QNAME: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.qname");
const AK_ECC: &[u8] = include_bytes!("../tests/fixtures/ak-ecc.pub");
const EK_RSA: &[u8] = include_bytes!("../tests/fixtures/ek-rsa.pub");
const QUOTE_RSA: &[u8] = include_bytes!("../tests/fixtures/quote-rsa.msg");
const SIG_RSA: &[u8] = include_bytes!("../tests/fixtures/quote-rsa.sig");
const QUOTE_ECC: &[u8] = include_bytes!("../tests/fixtures/quote-ecc.msg");
const SIG_ECC: &[u8] = include_bytes!("../tests/fixtures/quote-ecc.sig");
const PCRS: &[u8] = include_bytes!("../tests/fixtures/pcrs-sha256-0-1-2-10.bin");
const NONCE: &[u8] = include_bytes!("../tests/fixtures/nonce.bin");
const CERTIFY: &[u8] = include_bytes!("../tests/fixtures/certify-rsa.attest");
const CERTIFY_SIG: &[u8] = include_bytes!("../tests/fixtures/certify-rsa.sig");
const CERTIFIED: &[u8] = include_bytes!("../tests/fixtures/certified.pub");
/// What tpm2_certify 5.4 always passes as qualifying data.
const CERTIFY_NONCE: &[u8] = &[0x00, 0xff, 0x55, 0xaa];

fn pcrs() -> PcrValues {
    let mut p = PcrValues::default();
    for (i, chunk) in [0u32, 1, 2, 10].into_iter().zip(PCRS.chunks(32)) {
        p.set(HashAlg::Sha256, i, chunk.to_vec());
    }
    p
}

fn ak() -> TpmPublic {
    TpmPublic::parse(AK_RSA).unwrap()
}

fn verify(
    quote: &[u8],
    sig: &[u8],
    nonce: &[u8],
    pcrs: &PcrValues,
) -> Result<VerifiedQuote, QuoteError> {
    verify_quote(&ak(), Some(AK_RSA_QNAME), quote, sig, nonce, pcrs)
}

#[test]
fn swtpm_rsa_quote_verifies_and_proves_only_selected_pcrs() {
    let mut claimed = pcrs();
    claimed.set(HashAlg::Sha256, 16, vec![0; 32]);
    claimed.set(HashAlg::Sha1, 0, vec![0; 20]);
    let q = verify(QUOTE_RSA, SIG_RSA, NONCE, &claimed).unwrap();
    assert_eq!(q.pcrs(), &pcrs());
    assert_eq!(q.nonce(), NONCE);
    assert_eq!(q.qualified_signer(), AK_RSA_QNAME);
    assert_eq!(
        q.selection(),
        &PcrSelection(vec![(HashAlg::Sha256, vec![0, 1, 2, 10])])
    );
    assert!(q.clock_info().safe);
    let json = serde_json::to_value(&q).unwrap();
    assert_eq!(json["pcrs"]["sha256"]["10"], hex::encode(&PCRS[96..]));
}

#[test]
fn swtpm_ecdsa_quote_verifies() {
    let ak = TpmPublic::parse(AK_ECC).unwrap();
    let q = verify_quote(&ak, None, QUOTE_ECC, SIG_ECC, NONCE, &pcrs()).unwrap();
    assert_eq!(q.pcrs(), &pcrs());
}

#[test]
fn one_byte_changes_fail_with_the_matching_error() {
    let mut msg = QUOTE_RSA.to_vec();
    msg[60] ^= 1; // inside clockInfo
    assert_eq!(
        verify(&msg, SIG_RSA, NONCE, &pcrs()),
        Err(QuoteError::BadSignature)
    );
    let mut sig = SIG_RSA.to_vec();
    sig[100] ^= 1;
    assert_eq!(
        verify(QUOTE_RSA, &sig, NONCE, &pcrs()),
        Err(QuoteError::BadSignature)
    );
    let mut p = pcrs();
    p.set(HashAlg::Sha256, 10, vec![0; 32]);
    assert_eq!(
        verify(QUOTE_RSA, SIG_RSA, NONCE, &p),
        Err(QuoteError::PcrDigestMismatch)
    );
    let mut msg = QUOTE_RSA.to_vec();
    msg[0] ^= 1;
    assert_eq!(
        verify(&msg, SIG_RSA, NONCE, &pcrs()),
        Err(QuoteError::Attest(WireError::BadMagic))
    );
}

#[test]
fn missing_pcr_is_named() {
    let mut p = pcrs();
    p.0.entry(HashAlg::Sha256).or_default().remove(&2);
    assert_eq!(
        verify(QUOTE_RSA, SIG_RSA, NONCE, &p),
        Err(QuoteError::MissingPcrValue {
            bank: HashAlg::Sha256,
            index: 2
        })
    );
}

#[test]
fn wrong_or_empty_nonce_is_refused() {
    assert_eq!(
        verify(QUOTE_RSA, SIG_RSA, b"other", &pcrs()),
        Err(QuoteError::NonceMismatch)
    );
    assert_eq!(
        verify(QUOTE_RSA, SIG_RSA, b"", &pcrs()),
        Err(QuoteError::EmptyNonce)
    );
}

#[test]
fn wrong_qualified_signer_is_refused() {
    let r = verify_quote(
        &ak(),
        Some(&ak().name()),
        QUOTE_RSA,
        SIG_RSA,
        NONCE,
        &pcrs(),
    );
    assert_eq!(r, Err(QuoteError::QualifiedSignerMismatch));
}

#[test]
fn ek_cannot_act_as_attestation_key() {
    let ek = TpmPublic::parse(EK_RSA).unwrap();
    let r = verify_quote(&ek, None, QUOTE_RSA, SIG_RSA, NONCE, &pcrs());
    assert_eq!(r, Err(QuoteError::NotRestrictedSigningKey));
}

#[test]
fn certify_is_not_a_quote_and_quote_is_not_a_certify() {
    let r = verify(CERTIFY, CERTIFY_SIG, CERTIFY_NONCE, &pcrs());
    assert_eq!(
        r,
        Err(QuoteError::WrongType {
            expected: 0x8018,
            found: 0x8017
        })
    );
    let certified = TpmPublic::parse(CERTIFIED).unwrap();
    let r = verify_certify(&ak(), QUOTE_RSA, SIG_RSA, NONCE, &certified);
    assert_eq!(
        r.unwrap_err(),
        QuoteError::WrongType {
            expected: 0x8017,
            found: 0x8018
        }
    );
}

#[test]
fn signature_from_another_scheme_is_refused_before_verifying() {
    let ecc_ak = TpmPublic::parse(AK_ECC).unwrap();
    let r = verify_quote(&ecc_ak, None, QUOTE_RSA, SIG_RSA, NONCE, &pcrs());
    assert!(matches!(
        r,
        Err(QuoteError::SchemeMismatch {
            key_scheme: 0x0018,
            found_scheme: 0x0014,
            ..
        })
    ));
    assert!(matches!(
        verify(QUOTE_RSA, &SIG_RSA[..10], NONCE, &pcrs()),
        Err(QuoteError::Signature(_))
    ));
}

#[test]
fn swtpm_certify_verifies_and_binds_the_certified_name() {
    let certified = TpmPublic::parse(CERTIFIED).unwrap();
    let c = verify_certify(&ak(), CERTIFY, CERTIFY_SIG, CERTIFY_NONCE, &certified).unwrap();
    assert_eq!(c.certified().name(), certified.name());
    assert_eq!(c.nonce(), CERTIFY_NONCE);
    let r = verify_certify(&ak(), CERTIFY, CERTIFY_SIG, CERTIFY_NONCE, &ak());
    assert_eq!(r.unwrap_err(), QuoteError::CertifiedNameMismatch);
}

#[test]
fn arbitrary_truncations_never_panic() {
    for n in 0..QUOTE_RSA.len() {
        assert!(verify(&QUOTE_RSA[..n], SIG_RSA, NONCE, &pcrs()).is_err());
    }
    for n in 0..SIG_RSA.len() {
        assert!(verify(QUOTE_RSA, &SIG_RSA[..n], NONCE, &pcrs()).is_err());
    }
}
