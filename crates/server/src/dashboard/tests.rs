//! The dashboard's files: served with the security headers, revalidated by ETag, and
//! free of what the Content-Security-Policy forbids or the page must never do.

use super::*;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

async fn get(path: &str, if_none_match: Option<&str>) -> Response {
    let mut req = Request::get(path);
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    routes::<()>()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_file_carries_the_policy_and_security_headers() {
    for path in std::iter::once("/dashboard/".to_owned())
        .chain(ASSETS.iter().map(|a| format!("/dashboard/{}", a.name)))
    {
        let res = get(&path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert!(h.contains_key(header::ETAG), "{path}");
        assert!(h.contains_key(header::CONTENT_TYPE), "{path}");
    }
}

#[test]
fn the_policy_is_the_strict_one() {
    assert_eq!(
        CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
}

#[tokio::test]
async fn a_current_copy_is_revalidated_not_resent() {
    let first = get("/dashboard/app.js", None).await;
    let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let again = get("/dashboard/app.js", Some(&tag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        again.headers()[header::CONTENT_SECURITY_POLICY],
        CONTENT_SECURITY_POLICY
    );
    let stale = get("/dashboard/app.js", Some("\"0000\"")).await;
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_files_and_traversal_are_not_found() {
    for path in [
        "/dashboard/nope.js",
        "/dashboard/..%2fCargo.toml",
        "/dashboard/%2e%2e/lib.rs",
        "/dashboard/js/app.js",
    ] {
        assert_eq!(
            get(path, None).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let bare = get("/dashboard", None).await;
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers()[header::LOCATION], "/dashboard/");
}

/// The policy forbids inline scripts, styles and handlers; the page must also never
/// parse service data as HTML.
#[test]
fn the_files_hold_nothing_the_policy_forbids_or_html_sinks() {
    let html = std::str::from_utf8(ASSETS[0].bytes).unwrap();
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(tag.contains("src="), "inline script: <script{tag}>");
    }
    for forbidden in [
        "<style",
        " style=",
        " onclick=",
        " onload=",
        " onerror=",
        "http://",
        "https://",
    ] {
        assert!(!html.contains(forbidden), "index.html contains {forbidden}");
    }
    for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let js = std::str::from_utf8(a.bytes).unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            ".style.",
            "localStorage",
            "http://",
            "https://",
        ] {
            assert!(!js.contains(sink), "{} uses {sink}", a.name);
        }
    }
}
