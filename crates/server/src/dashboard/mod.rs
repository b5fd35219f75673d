//! The dashboard: a web UI served by the service itself at `/dashboard/`, on the same TLS
//! listener (docs/dashboard.md). This module serves its static files, embedded in the
//! binary so that it works offline, under a strict Content-Security-Policy.
//!
//! The files are public and hold no data: the page reads everything from the
//! authenticated `/v1/...` API with a bearer token: a person's ID token from the sign-in
//! with the service's OpenID Connect provider (`identity::sign_in`), or an API token the
//! user pastes. This module must never serve data, inline a script or style, or loosen the
//! policy for one page: everything the page shows is attacker-influenced (host names,
//! failure reasons, asset tags), and the policy is what keeps a slip in the page's code
//! from running it.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// What the page may load: its own scripts and styles only, data only from the service,
/// no framing, no forms, no base URL. `img-src data:` allows the inline SVG icon only.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'none'";

/// One embedded file: its name under `/dashboard/`, media type and bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            media_type: $type,
            bytes: include_bytes!(concat!("../../dashboard/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("dashboard.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("events.js", JS),
    asset!("export.js", JS),
    asset!("fleet.js", JS),
    asset!("views.js", JS),
    asset!("alerts.js", JS),
    asset!("violations.js", JS),
    asset!("compliance.js", JS),
    asset!("signin.js", JS),
    asset!("app.js", JS),
];

/// The dashboard's routes; unauthenticated, like `/healthz` (static files only).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::permanent("/dashboard/") }),
        )
        .route(
            "/dashboard/",
            get(|h: HeaderMap| async move { serve("index.html", &h) }),
        )
        .route(
            "/dashboard/{file}",
            get(
                |axum::extract::Path(file): axum::extract::Path<String>, h: HeaderMap| async move {
                    serve(&file, &h)
                },
            ),
        )
}

/// One file with the security headers; 304 when the client's copy is current.
fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return crate::error::ServiceError::NotFound("dashboard file".into()).into_response();
    };
    let etag = etag(asset.bytes);
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.media_type),
            )],
            asset.bytes,
        )
            .into_response()
    };
    let h = res.headers_mut();
    for (name, value) in security_headers() {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// The headers every dashboard file carries. `no-cache` means "revalidate each time"
/// (cheap with the ETag): file names carry no version, so a cached script must never
/// outlive an upgrade of the page that loads it.
fn security_headers() -> [(header::HeaderName, &'static str); 7] {
    [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ]
}

fn etag(bytes: &[u8]) -> String {
    let d = ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, bytes);
    format!("\"{}\"", hex::encode(&d[..16]))
}

#[cfg(test)]
mod tests;
