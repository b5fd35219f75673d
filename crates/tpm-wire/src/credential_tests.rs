use super::*;
use crate::wire::Reader;
use ironroot_crypto::{aes_cfb_decrypt, hmac_verify};

const EK_RSA: &[u8] = include_bytes!("../tests/fixtures/ek-rsa.pub");
const EK_ECC: &[u8] = include_bytes!("../tests/fixtures/ek-ecc.pub");
const AK_RSA: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.pub");
const AK_NAME: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.name");

/// What TPM2_ActivateCredential does after recovering the seed (Part 1 §24.5).
fn open(seed: &[u8], object_name: &[u8], id_object: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(id_object);
    let inner = r.tpm2b(1024, "id").unwrap();
    r.finish().unwrap();
    let mut r = Reader::new(inner);
    let tag = r.tpm2b(64, "hmac").unwrap();
    let mut enc = r.remaining().to_vec();
    let hmac_key = kdfa(HashAlg::Sha256, seed, b"INTEGRITY", b"", b"", 256);
    if !hmac_verify(
        HashAlg::Sha256,
        &hmac_key,
        &[&enc[..], object_name].concat(),
        tag,
    ) {
        return None;
    }
    let sym = kdfa(HashAlg::Sha256, seed, b"STORAGE", object_name, b"", 128);
    aes_cfb_decrypt(&sym, &[0u8; 16], &mut enc).unwrap();
    let mut r = Reader::new(&enc);
    let cred = r.tpm2b(64, "cred").unwrap().to_vec();
    r.finish().unwrap();
    Some(cred)
}

#[test]
fn sealed_identity_opens_with_the_same_seed_and_name_only() {
    let seed = [7u8; 32];
    let id = seal(HashAlg::Sha256, &seed, 128, AK_NAME, b"secret").unwrap();
    assert_eq!(open(&seed, AK_NAME, &id).unwrap(), b"secret");
    // 2 (size) + 2 + 32 (HMAC) + 2 + 6 (encrypted TPM2B credential).
    assert_eq!(id.len(), 2 + 34 + 8);
    assert_eq!(
        open(&seed, &[0u8; 34], &id),
        None,
        "the HMAC binds the object name"
    );
    assert_eq!(
        open(&[8u8; 32], AK_NAME, &id),
        None,
        "the HMAC binds the seed"
    );
}

#[test]
fn rsa_ek_secret_is_an_oaep_block_of_modulus_size() {
    let ek = TpmPublic::parse(EK_RSA).unwrap();
    let made = make_credential(&ek, AK_NAME, b"0123456789abcdef").unwrap();
    assert_eq!(made.encrypted_secret.len(), 2 + 256);
    assert_eq!(&made.encrypted_secret[..2], &[1, 0]);
    let file = made.to_tpm2_tools_file();
    assert_eq!(&file[..8], &[0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1]);
    assert_eq!(
        file.len(),
        8 + made.id_object.len() + made.encrypted_secret.len()
    );
}

#[test]
fn ecc_ek_secret_is_an_ephemeral_point() {
    let ek = TpmPublic::parse(EK_ECC).unwrap();
    let made = make_credential(&ek, AK_NAME, b"0123456789abcdef").unwrap();
    // u16 size, then TPMS_ECC_POINT: two TPM2B P-256 coordinates.
    assert_eq!(made.encrypted_secret.len(), 2 + 2 + 32 + 2 + 32);
}

#[test]
fn refuses_keys_and_sizes_a_tpm_would_refuse() {
    let ek = TpmPublic::parse(EK_RSA).unwrap();
    let ak = TpmPublic::parse(AK_RSA).unwrap();
    assert_eq!(
        make_credential(&ak, AK_NAME, b"x"),
        Err(CredentialError::NotRestrictedDecryptionKey)
    );
    assert_eq!(
        make_credential(&ek, AK_NAME, &[0; 33]),
        Err(CredentialError::CredentialSize)
    );
    assert_eq!(
        make_credential(&ek, AK_NAME, b""),
        Err(CredentialError::CredentialSize)
    );
    assert_eq!(
        make_credential(&ek, &[0; 67], b"x"),
        Err(CredentialError::ObjectNameSize)
    );
    assert_eq!(
        make_credential(&ek, b"", b"x"),
        Err(CredentialError::ObjectNameSize)
    );
}

#[test]
fn refuses_an_ek_without_aes_cfb() {
    // The RSA EK with its symmetric algorithm changed to NULL (keyBits and mode removed).
    let tpmt = &EK_RSA[2..];
    // type 2 + nameAlg 2 + attributes 4 + authPolicy (2 + 32) = 42: symmetric starts here.
    let mut no_sym = tpmt[..42].to_vec();
    no_sym.extend_from_slice(&alg::NULL.to_be_bytes());
    no_sym.extend_from_slice(&tpmt[48..]);
    let ek = TpmPublic::parse_tpmt(&no_sym).unwrap();
    assert!(ek.symmetric().is_none());
    assert_eq!(
        make_credential(&ek, AK_NAME, b"x"),
        Err(CredentialError::UnsupportedSymmetric)
    );
}
