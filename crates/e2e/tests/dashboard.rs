//! The dashboard in a real browser: headless Chromium driven over the DevTools protocol
//! against a real service and attesting development nodes (real swtpm TPMs). It logs in,
//! sees the fleet, watches a tampered node turn untrusted without a reload, reads why,
//! sees key releases and refusals, acknowledges the node's alert, pages and filters
//! alerts, reads the compliance matrix and the violations with their drill-down
//! (`dashboard_governance`), and checks that the page's policy holds: no request leaves
//! the origin, and markup in node-influenced data renders as text. Screenshots go to
//! docs/ with IRONROOT_DASHBOARD_SCREENSHOTS=1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod dashboard_governance;

use ironroot_api::{CreateKey, KeyInfo, KeyPolicy, TagRequest};
use ironroot_e2e::{peers_available, tagged_fleet};
use ironroot_peers::chromium::{Chromium, Page};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const HOSTILE: &str = "<img src=x onerror=window.__pwned=1>";
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const SOON: Duration = Duration::from_secs(20);

/// Where screenshots go: docs/ when asked (to refresh the committed ones), else a
/// temporary directory (they are still taken, so the capture path is tested).
fn shot_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    if std::env::var("IRONROOT_DASHBOARD_SCREENSHOTS").as_deref() == Ok("1") {
        return (
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs"),
            None,
        );
    }
    let t = tempfile::tempdir().unwrap();
    (t.path().to_path_buf(), Some(t))
}

async fn shot(page: &Page, dir: &std::path::Path, name: &str) {
    let path = dir.join(format!("dashboard-{name}.png"));
    page.screenshot(&path).await.unwrap();
    let png = std::fs::read(&path).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{name}: {} bytes",
        png.len()
    );
}

async fn log_in(page: &Page, token: &str) {
    page.wait_until("!document.getElementById('login-view').hidden", SOON)
        .await
        .unwrap();
    page.evaluate(&format!(
        "document.getElementById('token').value = {}; document.getElementById('login').click(); true",
        json!(token)
    ))
    .await
    .unwrap();
}

/// The fleet table's rows: hostname, trust, node column, tags column, why column.
async fn fleet_rows(page: &Page) -> Vec<Vec<String>> {
    let v = page
        .evaluate(
            "[...document.querySelectorAll('#fleet tbody tr')].map(r => [r.dataset.hostname, \
             r.dataset.trust, r.cells[2].textContent, r.cells[3].textContent, r.cells[6].textContent])",
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

fn row(name: &str) -> String {
    format!("document.querySelector('#fleet tbody tr[data-hostname=\"{name}\"]')")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_fleet_live_in_a_real_browser() {
    if !peers_available() {
        return;
    }
    if !Chromium::available() {
        ironroot_testkit::skip_missing_peer("chromium is not installed (apt-get install chromium)");
        return;
    }
    let fleet = tagged_fleet("dashboard", &[("node-1", "EU"), ("node-2", "US")])
        .await
        .unwrap();
    let (p, mut nodes, sessions) = (fleet.platform, fleet.nodes, fleet.sessions);
    let host1 = sessions[0].host_id().unwrap().to_owned();
    let host2 = sessions[1].host_id().unwrap().to_owned();
    // Host names are DNS names (the service refuses markup at enrollment), so the
    // hostile text rides on an asset tag, which allows any printable character.
    let tags = TagRequest {
        tags: BTreeMap::from([
            ("region".into(), "US".into()),
            ("owner".into(), HOSTILE.into()),
        ]),
    };
    p.admin.issue_tag(&host2, &tags).await.unwrap();
    assert!(sessions[1].attest_once().await.unwrap().trusted);
    let _: Value = p
        .admin
        .put(
            &format!("/v1/hosts/{host1}/node"),
            &json!({"node": "worker-1"}),
        )
        .await
        .unwrap();
    let policy = KeyPolicy {
        asset_tags: BTreeMap::from([("region".into(), "EU".into())]),
        ..Default::default()
    };
    let key = CreateKey {
        name: "payments-eu".into(),
        policy,
        material: None,
    };
    let _: KeyInfo = p.admin.post("/v1/keys", &key).await.unwrap();
    sessions[0].release_key("payments-eu").await.unwrap();
    assert!(sessions[1].release_key("payments-eu").await.is_err());
    let token = std::fs::read_to_string(p.config.data_dir.join("admin.token")).unwrap();
    let origin = p.url();
    let (shots, _keep) = shot_dir();

    let browser = Chromium::launch().await.unwrap();
    // The test service's CA is its own; the browser is told to accept it (tests only).
    browser.ignore_certificate_errors().await.unwrap();
    let page = browser.new_page().await.unwrap();
    page.navigate(&format!("{origin}/dashboard/"))
        .await
        .unwrap();
    log_in(&page, token.trim()).await;
    page.wait_until(
        "document.querySelectorAll('#fleet tbody tr').length === 2",
        SOON,
    )
    .await
    .unwrap();
    page.wait_until(
        "document.getElementById('live').textContent === 'live'",
        SOON,
    )
    .await
    .unwrap();
    let rows = fleet_rows(&page).await;
    assert_eq!(rows[0][..3], ["node-1", "trusted", "worker-1"], "{rows:?}");
    assert_eq!(rows[0][3], "region=EU");
    assert_eq!(rows[1][..3], ["node-2", "trusted", "not bound"], "{rows:?}");
    assert_eq!(rows[1][3], format!("owner={HOSTILE}region=US"));
    // The markup is text: no element was made of it, and nothing ran.
    let img = page
        .evaluate("[document.querySelectorAll('main img').length, typeof window.__pwned]")
        .await
        .unwrap();
    assert_eq!(img, json!([0, "undefined"]));
    shot(&page, &shots, "fleet").await;

    // Tamper node-1: its row turns red from the event stream, without a reload.
    page.evaluate("window.__sameDocument = 42").await.unwrap();
    nodes[0]
        .tamper_runtime(&sessions[0], "/usr/sbin/runc")
        .await
        .unwrap();
    assert!(!sessions[0].attest_once().await.unwrap().trusted);
    let r1 = row("node-1");
    page.wait_until(&format!("{r1}.dataset.trust === 'untrusted'"), SOON)
        .await
        .unwrap();
    let seen = page
        .evaluate(&format!(
            "[window.__sameDocument, {r1}.className, getComputedStyle({r1}).backgroundColor]"
        ))
        .await
        .unwrap();
    assert_eq!(seen, json!([42, "trust-untrusted", "rgb(253, 231, 234)"]));
    page.wait_until(
        &format!("{r1}.cells[6].textContent.includes('/usr/sbin/runc')"),
        SOON,
    )
    .await
    .unwrap();
    // Why, with the report's failing rules.
    page.evaluate(&format!("{r1}.click(); true")).await.unwrap();
    page.wait_until(
        "(document.getElementById('failing-rules')?.textContent || '').includes('/usr/sbin/runc')",
        SOON,
    )
    .await
    .unwrap();
    shot(&page, &shots, "untrusted").await;

    // What is shown exports as CSV (the view's own data, read through its module).
    let csv = page
        .evaluate(
            "Promise.all([import('/dashboard/fleet.js'), import('/dashboard/export.js')])\
             .then(([f, x]) => x.toCsv(f.fleetShown().columns, f.fleetShown().rows))",
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("Host,Trust,Kubernetes Node,Tags,"), "{csv}");
    assert!(
        csv.contains("node-1,untrusted,worker-1,region=EU,"),
        "{csv}"
    );
    let formula = page
        .evaluate(
            "import('/dashboard/export.js').then(x => x.toCsv(['a'], [['=cmd()'], ['x,\"y']]))",
        )
        .await
        .unwrap();
    assert_eq!(formula, json!("a\r\n'=cmd()\r\n\"x,\"\"y\"\r\n"));

    // Key releases and refusals.
    page.evaluate("location.hash = '#keys'").await.unwrap();
    page.wait_until(
        "document.querySelectorAll('#keys tbody tr').length === 2",
        SOON,
    )
    .await
    .unwrap();
    let keys = page
        .evaluate("[...document.querySelectorAll('#keys tbody tr')].map(r => [r.cells[2].textContent, r.cells[3].textContent])")
        .await
        .unwrap();
    assert_eq!(keys, json!([["node-2", "refused"], ["node-1", "released"]]));
    shot(&page, &shots, "keys").await;

    // Images: this service keeps no inventories (no --vulndb): said so.
    page.evaluate("location.hash = '#images'").await.unwrap();
    page.wait_until(
        "document.getElementById('images-status').textContent.startsWith('Not available')",
        SOON,
    )
    .await
    .unwrap();

    alerts(&page, &p.admin, &host1, &shots).await;
    let (on, dir) = (&page, shots.as_path());
    dashboard_governance::governance(&page, &p, move |name| shot(on, dir, name)).await;
    policy_held(&page, &origin).await;

    // A refused token returns to the login view; logging out forgets the token.
    page.evaluate("sessionStorage.setItem('ironroot.admin-token', 'not-the-token')")
        .await
        .unwrap();
    // A query, not a fragment: a new document, not a same-document navigation.
    page.navigate(&format!("{origin}/dashboard/?again"))
        .await
        .unwrap();
    page.wait_until(
        "document.getElementById('login-error').textContent.includes('refused')",
        SOON,
    )
    .await
    .unwrap();
    log_in(&page, token.trim()).await;
    page.wait_until("!document.getElementById('logout').hidden", SOON)
        .await
        .unwrap();
    page.evaluate("document.getElementById('logout').click()")
        .await
        .unwrap();
    let after = page
        .evaluate("[sessionStorage.length, document.getElementById('login-view').hidden, document.querySelectorAll('#fleet tbody tr').length]")
        .await
        .unwrap();
    assert_eq!(after, json!([0, false, 0]));
}

/// The node's trust-loss alert, acknowledged from the page, when the service has alerts.
async fn alerts(page: &Page, admin: &ironroot_client::Client, host: &str, shots: &std::path::Path) {
    page.evaluate("location.hash = '#alerts'").await.unwrap();
    if admin.get::<Value>("/v1/alerts").await.is_err() {
        eprintln!("NOTE: this service has no /v1/alerts: the view says so, nothing to acknowledge");
        page.wait_until(
            "document.getElementById('alerts-status').textContent.startsWith('Not available')",
            SOON,
        )
        .await
        .unwrap();
        return;
    }
    let row = format!("document.querySelector('#alerts tbody tr[data-subject=\"host/{host}\"]')");
    page.wait_until(&format!("{row}?.dataset.state === 'open'"), SOON)
        .await
        .unwrap();
    page.evaluate(&format!("{row}.querySelector('button.ack').click(); true"))
        .await
        .unwrap();
    page.wait_until(&format!("{row}?.dataset.state === 'acknowledged'"), SOON)
        .await
        .unwrap();
    shot(page, shots, "alerts").await;
}

/// The page was served under the strict policy, and every request it made stayed on
/// the service's origin.
async fn policy_held(page: &Page, origin: &str) {
    let doc = page
        .events("Network.responseReceived")
        .into_iter()
        .find(|e| e["type"] == "Document")
        .expect("the page's document was received");
    let headers: BTreeMap<String, String> = doc["response"]["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let urls: Vec<String> = page
        .events("Network.requestWillBeSent")
        .iter()
        .map(|e| e["request"]["url"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(urls.iter().any(|u| u.ends_with("/v1/events")), "{urls:?}");
    let away: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{origin}/")) && !u.starts_with("data:"))
        .collect();
    assert!(away.is_empty(), "requests left the origin: {away:?}");
}
