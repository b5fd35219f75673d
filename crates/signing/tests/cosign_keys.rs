#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! cosign key files and signatures: our keygen, the reference implementation's key files,
//! and refusal of tampered payloads and signatures.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ironroot_signing::cosign::{CosignError, CosignPublicKey, CosignSigningKey, KeyPassword};
use ironroot_signing::{ManifestDigest, PayloadType, SimpleSigningPayload};

const DIGEST: &str = "sha256:703218c0465075f4425e58fac086e09e1de5c340b12976ab9eb8ad26615c3715";

fn payload() -> Vec<u8> {
    SimpleSigningPayload::new(
        PayloadType::Cosign,
        "reg.example.com/ubuntu",
        ManifestDigest::parse(DIGEST).unwrap(),
    )
    .unwrap()
    .to_json()
    .unwrap()
}

#[test]
fn keygen_then_load_with_right_and_wrong_password() {
    let files = CosignSigningKey::generate_files(KeyPassword::Given(b"hunter2")).unwrap();
    assert!(files
        .private_pem
        .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(files.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let key = CosignSigningKey::from_encrypted_pem(
        files.private_pem.as_bytes(),
        KeyPassword::Given(b"hunter2"),
    )
    .unwrap();
    let public = CosignPublicKey::from_pem(files.public_pem.as_bytes()).unwrap();
    assert_eq!(key.public_key().unwrap(), public);
    let wrong = CosignSigningKey::from_encrypted_pem(
        files.private_pem.as_bytes(),
        KeyPassword::Given(b"hunter3"),
    );
    assert_eq!(wrong.unwrap_err(), CosignError::WrongPassword);
    // The body is go-securesystemslib's JSON with cosign's parameters.
    let body = files
        .private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let json: serde_json::Value = serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap();
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(json["kdf"]["params"]["N"], 32768);
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
}

#[test]
fn empty_password_must_be_chosen_explicitly() {
    let key = CosignSigningKey::generate().unwrap();
    assert_eq!(
        key.to_encrypted_pem(KeyPassword::Given(b"")).unwrap_err(),
        CosignError::EmptyPasswordNotChosen
    );
    let pem = key.to_encrypted_pem(KeyPassword::Empty).unwrap();
    let again = CosignSigningKey::from_encrypted_pem(pem.as_bytes(), KeyPassword::Empty).unwrap();
    assert_eq!(again.public_key().unwrap(), key.public_key().unwrap());
}

#[test]
fn sign_verify_round_trip_and_tampering_is_refused() {
    let key = CosignSigningKey::generate().unwrap();
    let public = key.public_key().unwrap();
    let p = payload();
    let sig = key.sign(&p).unwrap();
    let parsed = public.verify_payload(&p, &sig).unwrap();
    assert_eq!(parsed.manifest_digest.as_str(), DIGEST);

    let mut tampered = p.clone();
    let i = tampered.len() - 5;
    tampered[i] ^= 1;
    assert_eq!(
        public.verify(&tampered, &sig),
        Err(CosignError::BadSignature)
    );

    let mut der = STANDARD.decode(&sig).unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert_eq!(
        public.verify(&p, &STANDARD.encode(der)),
        Err(CosignError::BadSignature)
    );
    assert_eq!(
        public.verify(&p, "not base64!"),
        Err(CosignError::MalformedSignature)
    );
    let other = CosignSigningKey::generate().unwrap().public_key().unwrap();
    assert_eq!(other.verify(&p, &sig), Err(CosignError::BadSignature));
}

#[test]
fn published_legacy_label_key_loads_with_its_password() {
    let pem = include_bytes!("fixtures/cosign/ecdsa_encrypted_private.key");
    let key = CosignSigningKey::from_encrypted_pem(pem, KeyPassword::Given(b"123")).unwrap();
    let sig = key.sign(b"x").unwrap();
    key.public_key().unwrap().verify(b"x", &sig).unwrap();
    assert_eq!(
        CosignSigningKey::from_encrypted_pem(pem, KeyPassword::Given(b"124")).unwrap_err(),
        CosignError::WrongPassword
    );
}

#[test]
fn published_cosign_generated_key_with_empty_password_loads() {
    let pem = include_bytes!("fixtures/cosign/cosign_generated_encrypted_empty_private.key");
    let key = CosignSigningKey::from_encrypted_pem(pem, KeyPassword::Empty).unwrap();
    assert!(key
        .public_key()
        .unwrap()
        .to_pem()
        .unwrap()
        .contains("PUBLIC KEY"));
}

#[test]
fn garbage_key_files_give_typed_errors() {
    for input in [
        &b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGEga2V5\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"[..],
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"",
    ] {
        assert!(CosignSigningKey::from_encrypted_pem(input, KeyPassword::Empty).is_err());
    }
    // A hostile scrypt cost is refused before any work is done.
    let json = r#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":"AA=="}"#;
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        STANDARD.encode(json)
    );
    assert!(matches!(
        CosignSigningKey::from_encrypted_pem(pem.as_bytes(), KeyPassword::Empty),
        Err(CosignError::UnsupportedKeyFile(_))
    ));
}
