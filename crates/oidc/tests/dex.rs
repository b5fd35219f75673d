//! ironroot-oidc against a real OpenID Connect provider: Dex on loopback
//! (`ironroot_peers::dex`), with real RS256 ID tokens from its password grant. In CI
//! (`IRONROOT_REQUIRE_PEERS=1`) a missing Dex fails these tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ironroot_oidc::{
    ClockSkew, DiscoveryError, JwsAlgorithm, OidcError, Provider, ProviderConfig, VerifyError,
};
use ironroot_peers::dex::{self, Dex};
use std::time::Duration;

async fn start_dex() -> Option<Dex> {
    if let Some(why) = dex::missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return None;
    }
    Some(Dex::start().await.expect("Dex starts"))
}

fn config(dex: &Dex, client_id: &str) -> ProviderConfig {
    ProviderConfig {
        min_refresh_interval: Duration::ZERO,
        ..ProviderConfig::new(dex.issuer(), client_id)
    }
}

/// An ID token for the static user, from Dex's resource-owner password grant.
async fn id_token(dex: &Dex) -> String {
    ironroot_tls::install_process_provider();
    let res = reqwest::Client::new()
        .post(dex.token_endpoint())
        .basic_auth(dex::CLIENT_ID, Some(dex::CLIENT_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", dex::USER_EMAIL),
            ("password", dex::USER_PASSWORD),
            ("scope", "openid email profile"),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        status.is_success(),
        "password grant: {status} {body}\n{}",
        dex.log()
    );
    body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {body}"))
        .to_owned()
}

/// `token` with its payload's `claim` set to `value`, signature unchanged.
fn with_claim(token: &str, claim: &str, value: serde_json::Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims[claim] = value;
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(claims.to_string()),
        parts[2]
    )
}

#[tokio::test]
async fn a_dex_id_token_verifies_and_altered_ones_do_not() {
    let Some(dex) = start_dex().await else { return };
    let provider = Provider::discover(config(&dex, dex::CLIENT_ID))
        .await
        .unwrap();
    let meta = provider.metadata();
    assert_eq!(meta.issuer, dex.issuer());
    assert!(meta.signing_algorithms.contains(&JwsAlgorithm::Rs256));
    assert!(
        meta.device_authorization_endpoint.is_some(),
        "Dex advertises the device flow"
    );

    let token = id_token(&dex).await;
    let t = provider.verify(&token, None).await.unwrap();
    assert_eq!(t.issuer, dex.issuer());
    assert!(t.audience.iter().any(|a| a == dex::CLIENT_ID));
    assert_eq!(t.email.as_deref(), Some(dex::USER_EMAIL));
    assert!(!t.subject.is_empty());

    // The payload changed under the same signature.
    let tampered = with_claim(&token, "email", "root@example.com".into());
    assert!(matches!(
        provider.verify(&tampered, None).await,
        Err(OidcError::Verify(VerifyError::BadSignature))
    ));
    // A nonce this sign-in never sent.
    assert!(matches!(
        provider.verify(&token, Some("n-0S6_WzA2Mj")).await,
        Err(OidcError::Verify(VerifyError::MissingClaim("nonce")))
    ));
}

#[tokio::test]
async fn a_dex_token_for_another_client_or_time_is_refused() {
    let Some(dex) = start_dex().await else { return };
    let token = id_token(&dex).await;
    let other = Provider::discover(config(&dex, "someone-else"))
        .await
        .unwrap();
    assert!(matches!(
        other.verify(&token, None).await,
        Err(OidcError::Verify(VerifyError::Audience { .. }))
    ));

    let provider = Provider::discover(config(&dex, dex::CLIENT_ID))
        .await
        .unwrap();
    let now = ironroot_timestamp::now_unix();
    let skew = ClockSkew::DEFAULT.as_secs();
    let lifetime = dex::ID_TOKEN_LIFETIME.as_secs();
    // Within the skew on both sides: accepted.
    provider
        .verify_at(&token, None, now + lifetime + skew - 5)
        .await
        .unwrap();
    provider
        .verify_at(&token, None, now - skew + 5)
        .await
        .unwrap();
    // Past it: expired, or issued in the future.
    assert!(matches!(
        provider
            .verify_at(&token, None, now + lifetime + skew + 5)
            .await,
        Err(OidcError::Verify(VerifyError::Expired { .. }))
    ));
    assert!(matches!(
        provider.verify_at(&token, None, now - skew - 5).await,
        Err(OidcError::Verify(VerifyError::IssuedInFuture { .. }))
    ));
}

#[tokio::test]
async fn dex_keys_are_fetched_again_for_an_unknown_key_and_the_issuer_must_match() {
    let Some(dex) = start_dex().await else { return };
    let token = id_token(&dex).await;
    let provider = Provider::discover(config(&dex, dex::CLIENT_ID))
        .await
        .unwrap();
    // A header naming a key Dex never published: refreshed, still unknown, refused.
    let parts: Vec<&str> = token.split('.').collect();
    let header = B64.encode(r#"{"alg":"RS256","kid":"rotated-away"}"#);
    let unknown = format!("{header}.{}.{}", parts[1], parts[2]);
    assert!(matches!(
        provider.verify(&unknown, None).await,
        Err(OidcError::Verify(VerifyError::UnknownKey { .. }))
    ));
    // "none" is refused whatever the key set holds.
    let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), parts[1]);
    assert!(matches!(
        provider.verify(&none, None).await,
        Err(OidcError::Verify(VerifyError::AlgorithmNotAllowed(_)))
    ));
    // An issuer written with a trailing slash is not Dex's issuer.
    let slash = ProviderConfig::new(format!("{}/", dex.issuer()), dex::CLIENT_ID);
    assert!(matches!(
        Provider::discover(slash).await,
        Err(OidcError::Discovery(DiscoveryError::IssuerMismatch { .. }))
    ));
}
