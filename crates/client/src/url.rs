//! Where requests to the service may go. The administrator token goes to an `https://`
//! URL, and to a plain `http://` one only when the operator asked for it explicitly and
//! the host is a loopback address (a development service behind a local TLS terminator):
//! [`admin_base_url`]. An agent speaks to the service over `https://` only
//! ([`agent_base_url`]): its identity is its TLS client certificate.

use reqwest::Url;

/// Whether plain HTTP may carry the token (to a loopback address only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainHttp {
    /// `https://` only: the default.
    #[default]
    Refused,
    /// `http://` too, to a loopback address literal (`--insecure-http-loopback`).
    LoopbackOnly,
}

impl PlainHttp {
    /// From the value of an `--insecure-http-loopback` flag.
    pub fn from_flag(insecure_http_loopback: bool) -> PlainHttp {
        if insecure_http_loopback {
            PlainHttp::LoopbackOnly
        } else {
            PlainHttp::Refused
        }
    }
}

/// Why a service URL may not receive the administrator token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminUrlError {
    #[error("the service URL {url:?} is not a URL: {reason}")]
    Malformed { url: String, reason: String },
    #[error(
        "refusing to send the administrator token to {url}: only https:// URLs are allowed \
         (plain http:// only with --insecure-http-loopback, to 127.0.0.1 or [::1])"
    )]
    NotHttps { url: String },
    #[error(
        "refusing to send the administrator token in clear to {url}: \
         --insecure-http-loopback allows plain http:// only to a loopback address \
         (127.0.0.0/8 or [::1]), not to a host name or another machine; use https://"
    )]
    NotLoopback { url: String },
    #[error("the service URL {url:?} must not carry a user name, password, query or fragment")]
    Extra { url: String },
    #[error("the agent reaches the service over https:// only, not {url}")]
    AgentNotHttps { url: String },
}

/// Checks `server` and returns it without a trailing `/`, ready for `{base}{path}`.
pub fn admin_base_url(server: &str, plain_http: PlainHttp) -> Result<String, AdminUrlError> {
    let url = Url::parse(server).map_err(|e| AdminUrlError::Malformed {
        url: server.to_owned(),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(AdminUrlError::Extra {
            url: server.to_owned(),
        });
    }
    match (url.scheme(), plain_http) {
        ("https", _) => {}
        ("http", PlainHttp::LoopbackOnly) if is_loopback_literal(&url) => {}
        ("http", PlainHttp::LoopbackOnly) => {
            return Err(AdminUrlError::NotLoopback {
                url: server.to_owned(),
            })
        }
        _ => {
            return Err(AdminUrlError::NotHttps {
                url: server.to_owned(),
            })
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Checks an agent's `server` (https only) and returns it without a trailing `/`.
pub fn agent_base_url(server: &str) -> Result<String, AdminUrlError> {
    admin_base_url(server, PlainHttp::Refused).map_err(|e| match e {
        AdminUrlError::NotHttps { url } => AdminUrlError::AgentNotHttps { url },
        e => e,
    })
}

/// Whether `url`'s host is a loopback address literal (127.0.0.0/8, `[::1]`), the one rule
/// for where plain `http://` may go (here and for `ironroot-oidc`'s providers). Only a
/// literal counts: a name (even `localhost`) is whatever the resolver says it is.
pub fn is_loopback_literal(url: &Url) -> bool {
    // IPv6 literals keep their brackets in `host_str`; a name cannot contain them.
    url.host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn token_is_never_sent_over_plain_http_without_the_flag() {
        for url in [
            "http://127.0.0.1:8443",
            "http://[::1]:8443",
            "http://ironroot.example:8443",
            "HTTP://127.0.0.1",
        ] {
            assert!(
                matches!(
                    admin_base_url(url, PlainHttp::Refused),
                    Err(AdminUrlError::NotHttps { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn insecure_flag_does_not_send_the_token_in_clear_to_a_remote_host() {
        for url in [
            "http://ironroot.example:8443",
            "http://10.0.0.5:8443",
            "http://localhost:8443",
            "http://127.0.0.1.nip.io:8443",
            "http://[::ffff:10.0.0.5]:8443",
            "http://0.0.0.0:8443",
        ] {
            assert!(
                matches!(
                    admin_base_url(url, PlainHttp::LoopbackOnly),
                    Err(AdminUrlError::NotLoopback { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn insecure_flag_allows_plain_http_to_a_loopback_address() {
        assert_eq!(
            admin_base_url("http://127.0.0.1:8080/", PlainHttp::LoopbackOnly).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            admin_base_url("http://127.1.2.3:8080", PlainHttp::LoopbackOnly).unwrap(),
            "http://127.1.2.3:8080"
        );
        assert_eq!(
            admin_base_url("http://[::1]:8080", PlainHttp::LoopbackOnly).unwrap(),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn https_is_accepted_with_or_without_the_flag() {
        for plain in [PlainHttp::Refused, PlainHttp::LoopbackOnly] {
            assert_eq!(
                admin_base_url("https://ironroot.example:8443/", plain).unwrap(),
                "https://ironroot.example:8443"
            );
        }
        assert_eq!(
            admin_base_url("https://10.1.2.3:8443/api/", PlainHttp::Refused).unwrap(),
            "https://10.1.2.3:8443/api"
        );
    }

    #[test]
    fn other_schemes_and_malformed_urls_are_refused() {
        for url in ["ftp://127.0.0.1", "ws://127.0.0.1", "file:///tmp/sock"] {
            assert!(
                matches!(
                    admin_base_url(url, PlainHttp::LoopbackOnly),
                    Err(AdminUrlError::NotHttps { .. })
                ),
                "{url}"
            );
        }
        for url in ["127.0.0.1:8443", "", "https://"] {
            assert!(
                matches!(
                    admin_base_url(url, PlainHttp::LoopbackOnly),
                    Err(AdminUrlError::Malformed { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn agent_urls_are_https_only_even_on_loopback() {
        assert_eq!(
            agent_base_url("https://127.0.0.1:8443/").unwrap(),
            "https://127.0.0.1:8443"
        );
        for url in ["http://127.0.0.1:8443", "http://ironroot.example"] {
            let e = agent_base_url(url).unwrap_err();
            assert!(matches!(e, AdminUrlError::AgentNotHttps { .. }), "{url}");
            assert!(!e.to_string().contains("token"), "{e}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        for url in [
            "https://admin:secret@ironroot.example",
            "https://ironroot.example/?token=x",
            "https://ironroot.example/#x",
        ] {
            assert!(
                matches!(
                    admin_base_url(url, PlainHttp::Refused),
                    Err(AdminUrlError::Extra { .. })
                ),
                "{url}"
            );
        }
    }
}
