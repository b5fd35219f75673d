//! Where this crate may fetch from: `https://` URLs, and plain `http://` only to a loopback
//! address literal (a provider on the same machine, as in the tests): the one rule,
//! `ironroot_client::url::is_loopback_literal`, that also guards the administrator token.
//! The errors are this crate's own: the client's speak of the token and its flag.

use ironroot_client::url::is_loopback_literal;
use reqwest::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error("the {what} {url:?} is not a URL")]
    Malformed { what: &'static str, url: String },
    #[error(
        "the {what} {url} is not https://: plain http:// is allowed only to a loopback \
         address (127.0.0.0/8 or [::1]), not to a host name or another machine"
    )]
    NotHttps { what: &'static str, url: String },
    #[error("the {what} {url:?} must not carry a user name, password, query or fragment")]
    Extra { what: &'static str, url: String },
}

/// Checks an issuer identifier (OIDC Discovery section 2: https, no query or fragment).
pub fn check_issuer(issuer: &str) -> Result<Url, UrlError> {
    check("issuer", issuer, false)
}

/// Checks an endpoint the provider's metadata names (`jwks_uri`, `token_endpoint`...); a
/// query is allowed there.
pub fn check_endpoint(what: &'static str, url: &str) -> Result<Url, UrlError> {
    check(what, url, true)
}

fn check(what: &'static str, raw: &str, query_allowed: bool) -> Result<Url, UrlError> {
    let url = Url::parse(raw).map_err(|_| UrlError::Malformed {
        what,
        url: raw.to_owned(),
    })?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
        || (!query_allowed && url.query().is_some())
    {
        return Err(UrlError::Extra {
            what,
            url: raw.to_owned(),
        });
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(url),
        "http" if is_loopback_literal(&url) => Ok(url),
        _ => Err(UrlError::NotHttps {
            what,
            url: raw.to_owned(),
        }),
    }
}

/// Where discovery looks: the issuer with `/.well-known/openid-configuration` appended
/// (after removing one trailing `/`), as OIDC Discovery section 4 says.
pub fn discovery_url(issuer: &Url) -> Result<Url, UrlError> {
    let base = issuer.as_str().strip_suffix('/').unwrap_or(issuer.as_str());
    check_endpoint(
        "discovery URL",
        &format!("{base}/.well-known/openid-configuration"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_to_loopback_literals_only() {
        for ok in [
            "https://accounts.example.com",
            "https://idp.example/realms/x",
            "http://127.0.0.1:5556/dex",
            "http://127.9.9.9/dex",
            "http://[::1]:5556/dex",
        ] {
            assert!(check_issuer(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://localhost:5556/dex",
            "http://idp.example/dex",
            "http://10.0.0.1/dex",
            "http://0.0.0.0/dex",
            "http://[::ffff:127.0.0.1]/dex",
            "ftp://127.0.0.1/dex",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(check_issuer(bad), Err(UrlError::NotHttps { .. })),
                "{bad}"
            );
        }
        for extra in [
            "https://u:p@idp.example",
            "https://idp.example/?a=b",
            "https://idp.example/#x",
        ] {
            assert!(
                matches!(check_issuer(extra), Err(UrlError::Extra { .. })),
                "{extra}"
            );
        }
        assert!(matches!(
            check_issuer("idp"),
            Err(UrlError::Malformed { .. })
        ));
        assert!(check_endpoint("jwks_uri", "https://idp.example/keys?v=2").is_ok());
    }

    #[test]
    fn discovery_url_appends_the_well_known_path_once() {
        for (issuer, want) in [
            (
                "http://127.0.0.1:5556/dex",
                "http://127.0.0.1:5556/dex/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/",
                "https://idp.example/.well-known/openid-configuration",
            ),
        ] {
            let url = discovery_url(&check_issuer(issuer).unwrap()).unwrap();
            assert_eq!(url.as_str(), want);
        }
    }
}
