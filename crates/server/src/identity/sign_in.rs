//! The dashboard's sign-in with OpenID Connect (docs/identity.md, "Dashboard sign-in"):
//! Authorization Code with PKCE (RFC 7636, S256), this service doing the code exchange
//! for the page, whose Content-Security-Policy lets it talk to this origin only.
//!
//! - `GET /v1/sign-in` tells the page where to send the browser (issuer, client id,
//!   authorization endpoint), or 404 when no provider is configured.
//! - `POST /v1/sign-in/token` takes the code the provider returned with the page's PKCE
//!   verifier and nonce, exchanges it at the provider's token endpoint and verifies the ID
//!   token (nonce included). The answer is that ID token: the same credential `ironroot
//!   login` saves, which the gate accepts as a bearer like any other.
//!
//! Both routes are public (no credential exists yet). The exchange only works for a
//! `redirect_uri` that is this service's own `/dashboard/`, so the route cannot be used
//! to redeem codes meant for another redirect of the same client. Codes, verifiers and
//! tokens never reach a log or an error message.

use super::oidc::LazyProvider;
use crate::error::{ApiJson, ServiceError};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::Json;
use ironroot_oidc::{CodeGrant, OidcError, SignedIn};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The largest `redirect_uri` accepted.
const MAX_REDIRECT_URI: usize = 512;

/// Where the page sends the browser to sign in.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SignInInfo {
    pub issuer: String,
    pub client_id: String,
    pub authorization_endpoint: String,
}

/// What the page sends back after the provider redirected to it.
#[derive(Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeExchange {
    code: String,
    code_verifier: String,
    redirect_uri: String,
    nonce: String,
}

/// The person's ID token and who it names.
#[derive(Serialize)]
pub(crate) struct SignedInAnswer {
    id_token: String,
    /// Unix seconds: the page signs in again after it.
    expires_at: u64,
    email: String,
}

fn configured(st: &AppState) -> Result<&LazyProvider, ServiceError> {
    st.oidc.as_ref().ok_or_else(|| {
        ServiceError::NotFound("sign-in with an identity provider (not configured)".into())
    })
}

/// `GET /v1/sign-in`
pub(crate) async fn info(
    State(st): State<Arc<AppState>>,
) -> Result<Json<SignInInfo>, ServiceError> {
    let lazy = configured(&st)?;
    let provider = lazy.provider().await.map_err(ServiceError::Internal)?;
    let meta = provider.metadata();
    let Some(endpoint) = &meta.authorization_endpoint else {
        return Err(ServiceError::NotFound(
            "sign-in with an identity provider (its metadata has no authorization_endpoint)".into(),
        ));
    };
    Ok(Json(SignInInfo {
        issuer: meta.issuer.clone(),
        client_id: lazy.settings().client_id.clone(),
        authorization_endpoint: endpoint.to_string(),
    }))
}

/// `POST /v1/sign-in/token`
pub(crate) async fn token(
    State(st): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CodeExchange>,
) -> Result<Json<SignedInAnswer>, ServiceError> {
    let lazy = configured(&st)?;
    let own = dashboard_url(&uri, &headers).ok_or_else(|| {
        ServiceError::BadRequest("the request names no valid host of this service".into())
    })?;
    if req.redirect_uri.len() > MAX_REDIRECT_URI || req.redirect_uri != own {
        return Err(ServiceError::BadRequest(format!(
            "redirect_uri must be this service's dashboard, {own}"
        )));
    }
    let secret = client_secret(lazy)?;
    let provider = lazy.provider().await.map_err(ServiceError::Internal)?;
    let grant = CodeGrant {
        code: &req.code,
        code_verifier: &req.code_verifier,
        redirect_uri: &req.redirect_uri,
        client_secret: secret.as_ref().map(|s| s.as_str()),
        nonce: &req.nonce,
    };
    let SignedIn { claims, id_token } = provider.exchange_code(&grant).await.map_err(refused)?;
    let email = match (claims.email, claims.email_verified) {
        (Some(e), Some(true)) => e.to_ascii_lowercase(),
        _ => {
            return Err(ServiceError::Forbidden(
                "the identity provider vouches for no verified e-mail address of this person \
                 (scope email): nobody can be bound to this sign-in"
                    .into(),
            ))
        }
    };
    // Refused here with a reason the person can act on, rather than by the gate's
    // reasonless 401 on the page's first request.
    if st.store.person(&email).await?.is_empty() {
        return Err(ServiceError::Forbidden(format!(
            "{} signed in, but is bound to no role in any organisation: an administrator \
             binds the address first (ironroot person bind)",
            ironroot_client::printable(&email)
        )));
    }
    Ok(Json(SignedInAnswer {
        id_token,
        expires_at: claims.expires_at,
        email,
    }))
}

/// `https://HOST/dashboard/` for the host the request was sent to (`:authority` in
/// HTTP/2, `Host` in HTTP/1.1); `None` when it names none or something that is no host.
fn dashboard_url(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let authority = match uri.authority() {
        Some(a) => a.clone(),
        None => {
            let mut hosts = headers.get_all(header::HOST).iter();
            let host = hosts.next()?;
            if hosts.next().is_some() {
                return None;
            }
            host.to_str().ok()?.parse().ok()?
        }
    };
    let text = authority.as_str();
    if text.contains('@') || text.is_empty() {
        return None;
    }
    Some(format!("https://{text}/dashboard/"))
}

/// The client secret, read on each exchange so that a rotated file takes effect.
fn client_secret(lazy: &LazyProvider) -> Result<Option<Zeroizing<String>>, ServiceError> {
    let Some(file) = &lazy.settings().client_secret_file else {
        return Ok(None);
    };
    let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
        ServiceError::Internal(format!("OIDC client secret file {}: {e}", file.display()))
    })?);
    Ok(Some(Zeroizing::new(text.trim().to_owned())))
}

/// What the person signing in is told: the provider's refusal or the failed check (these
/// name no secret), and for an unreachable provider only that it is (the log has more).
fn refused(e: OidcError) -> ServiceError {
    match e {
        OidcError::Code(c) => ServiceError::BadRequest(format!("sign-in failed: {c}")),
        OidcError::Verify(v) => {
            ServiceError::BadRequest(format!("sign-in failed: the ID token was refused: {v}"))
        }
        other => ServiceError::Internal(format!("the identity provider's token endpoint: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(uri: &str, hosts: &[&str]) -> Option<String> {
        let mut h = HeaderMap::new();
        for v in hosts {
            h.append(header::HOST, v.parse().unwrap());
        }
        dashboard_url(&uri.parse().unwrap(), &h)
    }

    #[test]
    fn the_own_dashboard_url_comes_from_the_authority_or_the_one_host_header() {
        assert_eq!(
            url("https://127.0.0.1:8443/v1/sign-in/token", &["evil.example"]).as_deref(),
            Some("https://127.0.0.1:8443/dashboard/"),
            "HTTP/2's :authority wins"
        );
        assert_eq!(
            url("/v1/sign-in/token", &["ironroot.example:443"]).as_deref(),
            Some("https://ironroot.example:443/dashboard/")
        );
        assert_eq!(url("/v1/sign-in/token", &[]), None);
        assert_eq!(url("/v1/sign-in/token", &["a.example", "b.example"]), None);
        for bad in ["u@a.example", "a.example/x", "a b", ""] {
            assert_eq!(url("/v1/sign-in/token", &[bad]), None, "{bad:?}");
        }
    }

    #[test]
    fn the_exchange_body_is_exactly_the_four_fields() {
        let ok = r#"{"code":"c","code_verifier":"v","redirect_uri":"r","nonce":"n"}"#;
        assert!(serde_json::from_str::<CodeExchange>(ok).is_ok());
        let extra = r#"{"code":"c","code_verifier":"v","redirect_uri":"r","nonce":"n","client_secret":"s"}"#;
        assert!(serde_json::from_str::<CodeExchange>(extra).is_err());
        let missing = r#"{"code":"c","redirect_uri":"r","nonce":"n"}"#;
        assert!(serde_json::from_str::<CodeExchange>(missing).is_err());
    }

    #[test]
    fn refusals_name_the_check_and_never_the_code() {
        let e = refused(OidcError::Code(ironroot_oidc::CodeError::Refused {
            error: "invalid_grant".into(),
            description: None,
        }));
        assert!(
            matches!(&e, ServiceError::BadRequest(m) if m.contains("invalid_grant")),
            "{e}"
        );
        let down = refused(OidcError::Status {
            url: "http://127.0.0.1:1/token".into(),
            status: 502,
        });
        assert!(matches!(down, ServiceError::Internal(_)));
        assert_eq!(down.to_string(), "internal error");
    }
}
