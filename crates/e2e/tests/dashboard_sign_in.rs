//! A person signs in to the dashboard with OpenID Connect in a real browser: headless
//! Chromium, a real service, and a real Dex on loopback (Authorization Code with PKCE,
//! the service doing the code exchange). The page leaves for Dex's password form, comes
//! back signed in as the person bound to a role, shows who it is, and loses the session
//! (with a message saying why) once the person's binding is removed; signing in again is
//! then refused with the reason. In CI (`IRONROOT_REQUIRE_PEERS=1`) a missing Dex or
//! Chromium fails this test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_api::{PersonBinding, Role};
use ironroot_e2e::{Platform, TempDir};
use ironroot_peers::chromium::{Chromium, Page};
use ironroot_peers::dex::{self, Dex};
use ironroot_server::{EkCertPolicy, OidcSettings};
use serde_json::{json, Value};
use std::time::Duration;

const SOON: Duration = Duration::from_secs(30);

/// Polls `expression` until it is truthy, across navigations (an evaluation in a page
/// being replaced fails, and is tried again).
async fn eventually(page: &Page, expression: &str, what: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let last = match page.evaluate(expression).await {
            Ok(v) if !matches!(v, Value::Null | Value::Bool(false)) && v != json!("") => return v,
            Ok(v) => v.to_string(),
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("{what}: still not {expression} after {SOON:?} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the page's sign-in button and fills in Dex's password form.
async fn sign_in_at_dex(page: &Page, issuer: &str) {
    eventually(
        page,
        "!document.getElementById('sign-in').hidden",
        "the sign-in button",
    )
    .await;
    page.evaluate("document.getElementById('sign-in').click(); true")
        .await
        .unwrap();
    eventually(
        page,
        &format!(
            "location.href.startsWith({}) && !!document.querySelector('input[name=password]')",
            json!(issuer)
        ),
        "Dex's password form",
    )
    .await;
    page.evaluate(&format!(
        "document.querySelector('input[name=login]').value = {}; \
         document.querySelector('input[name=password]').value = {}; \
         document.querySelector('input[name=password]').form.submit(); true",
        json!(dex::USER_EMAIL),
        json!(dex::USER_PASSWORD)
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_to_the_dashboard_with_dex_and_is_signed_out_when_unbound() {
    if let Some(why) = dex::missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return;
    }
    if !Chromium::available() {
        ironroot_testkit::skip_missing_peer("chromium is not installed (apt-get install chromium)");
        return;
    }
    ironroot_tls::install_process_provider();
    // The service's address first: Dex must know the dashboard as a redirect URI, and the
    // service must know Dex as its issuer.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dashboard = format!("https://127.0.0.1:{port}/dashboard/");
    let dex = Dex::start_with(std::slice::from_ref(&dashboard))
        .await
        .expect("Dex starts");
    let dir = TempDir::new("dashboard-sign-in").unwrap();
    let secret = dir.0.join("oidc-client-secret");
    std::fs::write(&secret, format!("{}\n", dex::CLIENT_SECRET)).unwrap();
    let issuer = dex.issuer().to_owned();
    let p = Platform::start(dir, vec![], |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.ek_cert_policy = EkCertPolicy::IfPresent;
        c.oidc = Some(OidcSettings {
            issuer: issuer.clone(),
            client_id: dex::CLIENT_ID.to_owned(),
            ca_file: None,
            client_secret_file: Some(secret.clone()),
        });
    })
    .await
    .unwrap();
    assert_eq!(format!("{}/dashboard/", p.url()), dashboard);
    p.admin.create_organisation("acme").await.unwrap();
    let ada = PersonBinding {
        email: dex::USER_EMAIL.into(),
        role: Role::Viewer,
        organisation: Some("acme".into()),
    };
    p.admin.bind_person(&ada).await.unwrap();

    let browser = Chromium::launch().await.unwrap();
    // The test service's CA is its own; the browser is told to accept it (tests only).
    browser.ignore_certificate_errors().await.unwrap();
    let page = browser.new_page().await.unwrap();
    page.navigate(&dashboard).await.unwrap();
    sign_in_at_dex(&page, &issuer).await;

    // Back on the dashboard, signed in: the fleet view and who is signed in.
    let who = eventually(
        &page,
        "!document.getElementById('whoami').hidden && document.getElementById('whoami').textContent",
        "the signed-in header",
    )
    .await;
    assert_eq!(
        who,
        json!(format!("person/{} (viewer in acme)", dex::USER_EMAIL)),
        "{}",
        dex.log()
    );
    let state = page
        .evaluate(
            "[location.href, document.getElementById('fleet-view').hidden, \
             document.getElementById('login-view').hidden, \
             sessionStorage.getItem('ironroot.admin-token').split('.').length, \
             sessionStorage.getItem('ironroot.sign-in')]",
        )
        .await
        .unwrap();
    // The code left the address bar; the session's token is Dex's ID token (a JWS);
    // the sign-in's state, nonce and verifier are gone.
    assert_eq!(state, json!([dashboard, false, true, 3, null]));
    eventually(
        &page,
        "document.getElementById('live').textContent === 'live'",
        "the event stream",
    )
    .await;
    // A viewer reads; the page's requests all stayed on the service's origin.
    let away: Vec<String> = page
        .events("Network.requestWillBeSent")
        .iter()
        .filter(|e| e["type"] == "Fetch" || e["type"] == "XHR")
        .map(|e| e["request"]["url"].as_str().unwrap_or("").to_owned())
        .filter(|u| !u.starts_with(&p.url()))
        .collect();
    assert!(away.is_empty(), "the page fetched from elsewhere: {away:?}");

    // Unbound: the next load of the page returns to the login and says why.
    p.admin.unbind_person(dex::USER_EMAIL).await.unwrap();
    page.navigate(&format!("{dashboard}?again")).await.unwrap();
    let message = eventually(
        &page,
        "!document.getElementById('login-view').hidden && document.getElementById('login-error').textContent",
        "the login view after unbinding",
    )
    .await;
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("no longer accepts your sign-in"),
        "{message}"
    );
    assert_eq!(
        page.evaluate("sessionStorage.getItem('ironroot.admin-token')")
            .await
            .unwrap(),
        Value::Null
    );

    // Signing in again: Dex vouches for her, the service refuses with the reason.
    sign_in_at_dex(&page, &issuer).await;
    let refused = eventually(
        &page,
        "location.origin + location.pathname === location.origin + '/dashboard/' && \
         !document.getElementById('login-view').hidden && document.getElementById('login-error').textContent",
        "the refusal of an unbound person",
    )
    .await;
    let refused = refused.as_str().unwrap();
    assert!(
        refused.contains(&format!(
            "{} signed in, but is bound to no role",
            dex::USER_EMAIL
        )),
        "{refused}"
    );
    assert_eq!(
        page.evaluate("[location.search, sessionStorage.length]")
            .await
            .unwrap(),
        json!(["", 0])
    );
}

/// The service refuses to redeem a code for any redirect but its own dashboard, and says
/// when no provider is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_exchange_is_only_for_this_services_dashboard() {
    if let Some(why) = dex::missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return;
    }
    ironroot_tls::install_process_provider();
    let dex = Dex::start().await.expect("Dex starts");
    let issuer = dex.issuer().to_owned();
    let p = Platform::start(TempDir::new("sign-in-redirect").unwrap(), vec![], |c| {
        c.ek_cert_policy = EkCertPolicy::IfPresent;
        c.oidc = Some(OidcSettings {
            issuer: issuer.clone(),
            client_id: dex::CLIENT_ID.to_owned(),
            ca_file: None,
            client_secret_file: None,
        });
    })
    .await
    .unwrap();
    let info: Value = p.admin.get("/v1/sign-in").await.unwrap();
    assert_eq!(
        info,
        json!({"issuer": issuer, "client_id": dex::CLIENT_ID,
               "authorization_endpoint": format!("{issuer}/auth")})
    );
    let exchange = |redirect: String| {
        json!({"code": "c0de", "code_verifier": "v".repeat(43),
        "redirect_uri": redirect, "nonce": "n"})
    };
    // Another redirect of the same client (the CLI's), or another host.
    for other in [
        "http://127.0.0.1/callback".to_owned(),
        format!("{}/dashboard", p.url()),
        "https://evil.example/dashboard/".to_owned(),
    ] {
        let e = p
            .admin
            .post::<_, Value>("/v1/sign-in/token", &exchange(other.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.status().map(|s| s.0), Some(400), "{other}: {e}");
        assert!(e.to_string().contains("redirect_uri must be"), "{e}");
    }
    // The right one reaches Dex, which refuses a made-up code; the code is not echoed.
    let e = p
        .admin
        .post::<_, Value>(
            "/v1/sign-in/token",
            &exchange(format!("{}/dashboard/", p.url())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.0), Some(400), "{e}");
    assert!(e.to_string().contains("refused the code"), "{e}");
    assert!(!e.to_string().contains("c0de"), "{e}");
}
