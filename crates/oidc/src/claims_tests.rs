//! Claim checks on payloads directly (signatures are the business of verify_tests.rs).

use super::*;
use serde_json::json;

fn expect(now: u64) -> Expectations<'static> {
    Expectations {
        issuer: "https://idp.example",
        client_id: "c",
        nonce: None,
        skew: ClockSkew::DEFAULT,
        now,
    }
}

fn run(v: serde_json::Value) -> Result<IdToken, VerifyError> {
    check(v.to_string().as_bytes(), &expect(1000))
}

fn base() -> serde_json::Value {
    json!({"iss": "https://idp.example", "sub": "s", "aud": ["c"], "exp": 2000, "iat": 900})
}

#[test]
fn skew_is_bounded_to_five_minutes() {
    assert_eq!(ClockSkew::default().as_secs(), 60);
    assert_eq!(
        ClockSkew::new(Duration::from_secs(300)).unwrap().as_secs(),
        300
    );
    assert_eq!(
        ClockSkew::new(Duration::from_secs(301)),
        Err(SkewTooLarge(301))
    );
}

#[test]
fn required_claims_must_be_present_with_their_types() {
    assert!(run(base()).is_ok());
    for missing in ["iss", "sub", "aud", "exp", "iat"] {
        let mut c = base();
        c.as_object_mut().unwrap().remove(missing);
        assert_eq!(run(c), Err(VerifyError::MissingClaim(missing)), "{missing}");
    }
    for (claim, bad) in [
        ("exp", json!("2000")),
        ("exp", json!(-1)),
        ("iat", json!(true)),
        ("aud", json!(["c", 7])),
        ("aud", json!({"c": 1})),
        ("sub", json!(5)),
        ("azp", json!(["c"])),
    ] {
        let mut c = base();
        c[claim] = bad.clone();
        assert_eq!(run(c), Err(VerifyError::ClaimType(claim)), "{claim}={bad}");
    }
    let mut c = base();
    c["aud"] = json!([]);
    assert_eq!(run(c), Err(VerifyError::MissingClaim("aud")));
    assert_eq!(
        check(b"[1]", &expect(1000)),
        Err(VerifyError::Claims("the payload is not a JSON object"))
    );
}

#[test]
fn fractional_dates_never_extend_validity() {
    let mut c = base();
    c["exp"] = json!(940.9);
    // Now is 1000 and the skew 60 s: 940 has expired, 940.9 rounded up would not have.
    assert!(matches!(run(c), Err(VerifyError::Expired { exp: 940, .. })));
}
