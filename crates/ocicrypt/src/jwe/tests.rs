#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use ironroot_crypto::{EcCurve, EcPrivateKey, RsaPrivateKey};

fn rsa() -> JwePrivateKey {
    JwePrivateKey::Rsa(RsaPrivateKey::generate(2048).unwrap())
}

fn ec(curve: EcCurve) -> JwePrivateKey {
    JwePrivateKey::Ec(EcPrivateKey::generate(curve).unwrap())
}

#[test]
fn round_trip_every_wrap_algorithm() {
    let cases = [
        (rsa(), JweAlg::RsaOaep),
        (rsa(), JweAlg::RsaOaep256),
        (ec(EcCurve::P256), JweAlg::EcdhEsA256Kw),
        (ec(EcCurve::P384), JweAlg::EcdhEsA256Kw),
        (ec(EcCurve::P256), JweAlg::EcdhEsA128Kw),
    ];
    for (key, alg) in cases {
        let public = key.public_key().unwrap().with_alg(alg).unwrap();
        let jwe = jwe_wrap(&[public], b"{\"symkey\":\"...\"}").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&jwe).unwrap();
        assert!(v.get("recipients").is_none(), "one recipient is flattened");
        assert!(v.get("encrypted_key").is_some());
        let plain = jwe_unwrap(std::slice::from_ref(&key), &jwe).unwrap();
        assert_eq!(plain.as_slice(), b"{\"symkey\":\"...\"}", "{alg:?}");
    }
}

#[test]
fn several_recipients_use_general_form_and_each_key_opens_it() {
    let keys = [rsa(), ec(EcCurve::P256)];
    let publics: Vec<_> = keys.iter().map(|k| k.public_key().unwrap()).collect();
    let jwe = jwe_wrap(&publics, b"opts").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&jwe).unwrap();
    assert_eq!(v["recipients"].as_array().unwrap().len(), 2);
    for k in keys {
        assert_eq!(jwe_unwrap(&[k], &jwe).unwrap().as_slice(), b"opts");
    }
}

#[test]
fn wrong_key_and_tampering_are_refused() {
    let key = ec(EcCurve::P256);
    let jwe = jwe_wrap(&[key.public_key().unwrap()], b"opts").unwrap();
    assert_eq!(
        jwe_unwrap(&[ec(EcCurve::P256), rsa()], &jwe),
        Err(JweError::NoMatchingKey)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&jwe).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_string();
    let flipped = if ct.starts_with('A') { "B" } else { "A" };
    v["ciphertext"] = format!("{flipped}{}", &ct[1..]).into();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_eq!(jwe_unwrap(&[key], &bad), Err(JweError::NoMatchingKey));
}

#[test]
fn algorithm_must_fit_key_type_and_a192kw_is_unsupported() {
    let public = rsa().public_key().unwrap();
    assert_eq!(public.alg(), JweAlg::RsaOaep);
    assert_eq!(
        public.with_alg(JweAlg::EcdhEsA256Kw),
        Err(JweError::AlgorithmMismatch(JweAlg::EcdhEsA256Kw))
    );
    let ecp = ec(EcCurve::P256).public_key().unwrap();
    assert_eq!(ecp.alg(), JweAlg::EcdhEsA256Kw);
    let a192 = ecp.with_alg(JweAlg::EcdhEsA192Kw).unwrap();
    assert!(matches!(
        jwe_wrap(&[a192], b"x"),
        Err(JweError::Unsupported(_))
    ));
    assert_eq!(jwe_wrap(&[], b"x"), Err(JweError::NoRecipients));
}

#[test]
fn zip_header_duplicate_header_and_oversize_are_refused() {
    let key = rsa();
    let jwe = jwe_wrap(&[key.public_key().unwrap()], b"opts").unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&jwe).unwrap();
    v["header"] = serde_json::json!({"zip": "DEF"});
    let zipped = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        jwe_unwrap(&[rsa()], &zipped),
        Err(JweError::Unsupported(_))
    ));
    v["header"] = serde_json::json!({"enc": "A256GCM"});
    let dup = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        jwe_unwrap(&[key], &dup),
        Err(JweError::Malformed(_))
    ));
    let big = vec![b' '; MAX_JWE_LEN + 1];
    assert_eq!(jwe_unwrap(&[], &big), Err(JweError::TooLarge));
}

#[test]
fn concat_kdf_other_info_layout() {
    let info = concat_kdf_other_info("ECDH-ES+A256KW", b"", b"", 32);
    let mut want = 14u32.to_be_bytes().to_vec();
    want.extend_from_slice(b"ECDH-ES+A256KW");
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_eq!(info, want);
}
