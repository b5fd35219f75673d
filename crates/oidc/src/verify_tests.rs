//! Hand-made ID tokens, each wrong in one way, against [`verify_id_token`].

use super::*;
use crate::claims::ClockSkew;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ironroot_crypto::{JwkSet, ServiceSigningKey};
use serde_json::json;

const ISS: &str = "https://idp.example/dex";
const CLIENT: &str = "ironroot";
const NOW: u64 = 1_800_000_000;

fn keys_of(k: &ServiceSigningKey) -> KeySet {
    let doc = serde_json::to_vec(&JwkSet {
        keys: vec![k.jwk()],
    })
    .unwrap();
    KeySet::from_json(&doc).unwrap()
}

fn claims() -> serde_json::Value {
    json!({"iss": ISS, "sub": "CiQwOGE4Njg0Yi1kYjg4", "aud": CLIENT, "exp": NOW + 600,
           "iat": NOW - 10, "nonce": "n-0S6_WzA2Mj", "email": "ada@example.com",
           "email_verified": true, "name": "Ada", "groups": ["admins"]})
}

fn sign(k: &ServiceSigningKey, claims: &serde_json::Value) -> String {
    k.sign_compact("JWT", claims.to_string().as_bytes())
        .unwrap()
}

fn expect() -> Expectations<'static> {
    Expectations {
        issuer: ISS,
        client_id: CLIENT,
        nonce: None,
        skew: ClockSkew::DEFAULT,
        now: NOW,
    }
}

fn verify(token: &str, keys: &KeySet) -> Result<IdToken, VerifyError> {
    verify_id_token(token, keys, ALLOWED_ALGORITHMS, &expect())
}

/// A token with `header` and `claims`, signed with nothing (or junk).
fn unsigned(header: serde_json::Value, claims: &serde_json::Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(sig)
    )
}

#[test]
fn a_good_token_is_accepted_with_its_claims() {
    let k = ServiceSigningKey::generate().unwrap();
    let t = verify(&sign(&k, &claims()), &keys_of(&k)).unwrap();
    assert_eq!(t.subject, "CiQwOGE4Njg0Yi1kYjg4");
    assert_eq!(t.audience, vec![CLIENT.to_owned()]);
    assert_eq!(t.email.as_deref(), Some("ada@example.com"));
    assert_eq!(t.email_verified, Some(true));
    assert_eq!(t.claims["groups"], json!(["admins"]));
}

#[test]
fn none_and_hmac_are_refused_even_with_a_signature_made_from_the_public_key() {
    let k = ServiceSigningKey::generate().unwrap();
    let keys = keys_of(&k);
    let none = unsigned(json!({"alg": "none"}), &claims(), b"");
    assert_eq!(
        verify(&none, &keys),
        Err(VerifyError::AlgorithmNotAllowed("none".into()))
    );
    // The classic confusion: HS256 keyed with the public key the JWKS publishes.
    let header = B64.encode(json!({"alg": "HS256", "kid": k.kid()}).to_string());
    let payload = B64.encode(claims().to_string());
    let x = k.jwk().x;
    let mac = ironroot_crypto::hmac(
        ironroot_crypto::HashAlg::Sha256,
        x.as_bytes(),
        format!("{header}.{payload}").as_bytes(),
    );
    let hs = format!("{header}.{payload}.{}", B64.encode(mac));
    assert_eq!(
        verify(&hs, &keys),
        Err(VerifyError::AlgorithmNotAllowed("HS256".into()))
    );
}

#[test]
fn an_algorithm_the_provider_does_not_use_is_refused() {
    let k = ServiceSigningKey::generate().unwrap();
    let e = verify_id_token(
        &sign(&k, &claims()),
        &keys_of(&k),
        &[JwsAlgorithm::Rs256],
        &expect(),
    );
    assert_eq!(e, Err(VerifyError::AlgorithmNotAllowed("ES256".into())));
}

#[test]
fn tampering_and_a_foreign_key_break_the_signature() {
    let k = ServiceSigningKey::generate().unwrap();
    let keys = keys_of(&k);
    let good = sign(&k, &claims());
    let mut forged_claims = claims();
    forged_claims["email"] = json!("root@example.com");
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(forged_claims.to_string()),
        parts[2]
    );
    assert_eq!(verify(&tampered, &keys), Err(VerifyError::BadSignature));
    // Another key's signature under this key's id.
    let other = ServiceSigningKey::generate().unwrap();
    let theirs = sign(&other, &claims());
    let p: Vec<&str> = theirs.split('.').collect();
    let spliced = format!("{}.{}.{}", parts[0], p[1], p[2]);
    assert_eq!(verify(&spliced, &keys), Err(VerifyError::BadSignature));
    let short = format!("{}.{}.AAAA", parts[0], parts[1]);
    assert_eq!(verify(&short, &keys), Err(VerifyError::BadSignature));
}

#[test]
fn an_unknown_key_id_is_named() {
    let k = ServiceSigningKey::generate().unwrap();
    let other = ServiceSigningKey::generate().unwrap();
    assert_eq!(
        verify(&sign(&k, &claims()), &keys_of(&other)),
        Err(VerifyError::UnknownKey {
            kid: Some(k.kid().to_owned()),
            alg: "ES256"
        })
    );
}

#[test]
fn oversized_tokens_are_refused_before_parsing() {
    let k = ServiceSigningKey::generate().unwrap();
    let mut c = claims();
    c["padding"] = json!("x".repeat(crate::token::MAX_TOKEN_BYTES));
    assert!(matches!(
        verify(&sign(&k, &c), &keys_of(&k)),
        Err(VerifyError::TooLarge { .. })
    ));
}

#[test]
fn issuer_and_audience_must_be_ours() {
    let k = ServiceSigningKey::generate().unwrap();
    let keys = keys_of(&k);
    let mut c = claims();
    c["iss"] = json!("https://idp.example/dex/");
    assert!(matches!(
        verify(&sign(&k, &c), &keys),
        Err(VerifyError::Issuer { .. })
    ));
    let mut c = claims();
    c["aud"] = json!("another-client");
    assert!(matches!(
        verify(&sign(&k, &c), &keys),
        Err(VerifyError::Audience { .. })
    ));
    // Several audiences: accepted only when azp says the token was issued to us.
    let mut c = claims();
    c["aud"] = json!([CLIENT, "another-client"]);
    assert!(matches!(
        verify(&sign(&k, &c), &keys),
        Err(VerifyError::AuthorizedParty { got: None, .. })
    ));
    c["azp"] = json!("another-client");
    assert!(matches!(
        verify(&sign(&k, &c), &keys),
        Err(VerifyError::AuthorizedParty { .. })
    ));
    c["azp"] = json!(CLIENT);
    assert!(verify(&sign(&k, &c), &keys).is_ok());
}

#[test]
fn time_claims_are_checked_with_the_skew() {
    let k = ServiceSigningKey::generate().unwrap();
    let keys = keys_of(&k);
    let at = |claims: serde_json::Value, now: u64, skew: u64| {
        let e = Expectations {
            now,
            skew: ClockSkew::new(std::time::Duration::from_secs(skew)).unwrap(),
            ..expect()
        };
        verify_id_token(&sign(&k, &claims), &keys, ALLOWED_ALGORITHMS, &e)
    };
    let exp = NOW + 600;
    assert!(at(claims(), exp + 59, 60).is_ok());
    assert_eq!(
        at(claims(), exp + 60, 60),
        Err(VerifyError::Expired {
            exp,
            now: exp + 60,
            skew: 60
        })
    );
    assert!(matches!(
        at(claims(), exp, 0),
        Err(VerifyError::Expired { .. })
    ));
    let mut c = claims();
    c["nbf"] = json!(NOW + 100);
    assert!(matches!(
        at(c.clone(), NOW, 60),
        Err(VerifyError::NotYetValid { .. })
    ));
    assert!(at(c, NOW + 40, 60).is_ok());
    let mut c = claims();
    c["iat"] = json!(NOW + 61);
    assert!(matches!(
        at(c.clone(), NOW, 60),
        Err(VerifyError::IssuedInFuture { .. })
    ));
    assert!(at(c, NOW + 1, 60).is_ok());
}

#[test]
fn the_nonce_must_be_the_one_sent() {
    let k = ServiceSigningKey::generate().unwrap();
    let keys = keys_of(&k);
    let with = |nonce| {
        let e = Expectations {
            nonce: Some(nonce),
            ..expect()
        };
        verify_id_token(&sign(&k, &claims()), &keys, ALLOWED_ALGORITHMS, &e)
    };
    assert!(with("n-0S6_WzA2Mj").is_ok());
    assert_eq!(with("another"), Err(VerifyError::Nonce));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nonce");
    let e = Expectations {
        nonce: Some("n-0S6_WzA2Mj"),
        ..expect()
    };
    assert_eq!(
        verify_id_token(&sign(&k, &c), &keys, ALLOWED_ALGORITHMS, &e),
        Err(VerifyError::MissingClaim("nonce"))
    );
}
