#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! JWEs made by jwcrypto (tests/fixtures/jwe/regen.py) must open with our code, and ours
//! must open with jwcrypto (tests/fixtures/jwe/check-ours.sh, which runs the ignored test
//! below).

use ironroot_ocicrypt::{jwe_unwrap, jwe_wrap, JweAlg, JweError, JwePrivateKey, JwePublicKey};
use std::collections::BTreeMap;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwe");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

fn private(name: &str) -> JwePrivateKey {
    JwePrivateKey::from_pem(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn jwcrypto_jwes_open_with_every_listed_key() {
    let cases: BTreeMap<String, Vec<String>> = serde_json::from_slice(&read("cases.json")).unwrap();
    assert_eq!(cases.len(), 6);
    let payload = read("payload.json");
    for (jwe_file, key_files) in cases {
        let jwe = read(&jwe_file);
        for key_file in key_files {
            let plain = jwe_unwrap(&[private(&key_file)], &jwe)
                .unwrap_or_else(|e| panic!("{jwe_file} with {key_file}: {e}"));
            assert_eq!(plain.as_slice(), payload.as_slice(), "{jwe_file}");
        }
    }
}

#[test]
fn jwcrypto_jwe_refuses_a_key_it_was_not_made_for() {
    let jwe = read("p256-ecdh-es-a256kw-a256gcm.json");
    let others = [private("rsa-pkcs8.pem"), private("p384-sec1.pem")];
    assert_eq!(jwe_unwrap(&others, &jwe), Err(JweError::NoMatchingKey));
}

#[test]
fn key_forms_load_and_match_their_public_pem() {
    for (private_file, public_file) in [
        ("rsa-pkcs8.pem", "rsa-pub.pem"),
        ("rsa-pkcs1.pem", "rsa-pub.pem"),
        ("p256-pkcs8.pem", "p256-pub.pem"),
        ("p384-sec1.pem", "p384-pub.pem"),
    ] {
        let from_private = private(private_file).public_key().unwrap();
        let from_pem = JwePublicKey::from_pem(&read(public_file)).unwrap();
        assert_eq!(from_private, from_pem, "{private_file}");
    }
    assert_eq!(
        JwePublicKey::from_pem(&read("rsa-pkcs8.pem")),
        Err(JweError::BadKey)
    );
    assert!(matches!(
        JwePrivateKey::from_pem(&read("rsa-pub.pem")),
        Err(JweError::BadKey)
    ));
}

/// The JWEs that check-ours.sh hands to jwcrypto.
fn ours() -> Vec<(&'static str, Vec<u8>)> {
    let public = |f: &str| JwePublicKey::from_pem(&read(f)).unwrap();
    let payload = read("payload.json");
    let rsa256 = public("rsa-pub.pem").with_alg(JweAlg::RsaOaep256).unwrap();
    vec![
        (
            "ours-rsa-oaep.json",
            jwe_wrap(&[public("rsa-pub.pem")], &payload).unwrap(),
        ),
        (
            "ours-rsa-oaep-256.json",
            jwe_wrap(&[rsa256], &payload).unwrap(),
        ),
        (
            "ours-p256.json",
            jwe_wrap(&[public("p256-pub.pem")], &payload).unwrap(),
        ),
        (
            "ours-p384.json",
            jwe_wrap(&[public("p384-pub.pem")], &payload).unwrap(),
        ),
        (
            "ours-general.json",
            jwe_wrap(&[public("rsa-pub.pem"), public("p256-pub.pem")], &payload).unwrap(),
        ),
    ]
}

#[test]
fn our_jwes_to_fixture_keys_open_with_the_fixture_private_keys() {
    let keys = [
        private("rsa-pkcs1.pem"),
        private("p256-pkcs8.pem"),
        private("p384-sec1.pem"),
    ];
    for (name, jwe) in ours() {
        let plain = jwe_unwrap(&keys, &jwe).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plain.as_slice(), read("payload.json").as_slice());
    }
}

#[test]
#[ignore = "writes files for check-ours.sh; needs OCICRYPT_JWE_OUT"]
fn write_our_jwes_for_jwcrypto() {
    let out = std::env::var("OCICRYPT_JWE_OUT").unwrap();
    for (name, jwe) in ours() {
        std::fs::write(format!("{out}/{name}"), jwe).unwrap();
    }
}
