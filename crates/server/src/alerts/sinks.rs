//! A sink's configuration checked before it is stored: a name, an https URL (plain http
//! only to a loopback address), a CA that parses, a secret long enough to key an HMAC
//! (sealed with the broker's master key; the stored spec never holds it).

use ironroot_api::{SinkSpec, SyslogSink, WebhookSink};
use std::net::IpAddr;
use zeroize::Zeroizing;

/// The shortest webhook secret accepted, in bytes.
pub(crate) const MIN_SECRET: usize = 16;
/// The longest sink name.
const MAX_NAME: usize = 64;
/// The largest CA bundle a sink carries.
const MAX_CA: usize = 64 * 1024;

/// The master key's label for a sink's secret: sealed under one sink's name, it cannot be
/// moved to another's row.
pub(crate) fn secret_label(name: &str) -> String {
    format!("alert-sink:{name}")
}

/// Why a sink was refused (a 400 with this text).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SinkError {
    #[error("a sink name is 1 to {MAX_NAME} of a-z, 0-9, '-' and '_'")]
    Name,
    #[error("the webhook URL {0}")]
    Url(String),
    #[error("a webhook needs a secret of at least {MIN_SECRET} bytes")]
    Secret,
    #[error("the sink's CA: {0}")]
    Ca(String),
    #[error("the syslog address must be host:port")]
    Address,
    #[error("a syslog facility is 0 to 23")]
    Facility,
}

pub(crate) fn check_name(name: &str) -> Result<(), SinkError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(SinkError::Name)
}

fn check_ca(pem: &str) -> Result<(), SinkError> {
    if pem.len() > MAX_CA {
        return Err(SinkError::Ca(format!("larger than {MAX_CA} bytes")));
    }
    let roots =
        ironroot_tls::roots_from_pem(pem.as_bytes()).map_err(|e| SinkError::Ca(e.to_string()))?;
    if roots.is_empty() {
        return Err(SinkError::Ca("no certificate in it".into()));
    }
    Ok(())
}

/// Checks a webhook URL: https, or http to a loopback address literal; no user info
/// (credentials belong in the secret, not in a URL that ends up in logs) or fragment.
pub(crate) fn check_url(url: &str) -> Result<reqwest::Url, SinkError> {
    let u = reqwest::Url::parse(url).map_err(|e| SinkError::Url(format!("is not a URL: {e}")))?;
    if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
        return Err(SinkError::Url(
            "must not carry a user name, password or fragment".into(),
        ));
    }
    let loopback = u
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .is_some_and(|a| a.is_loopback());
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => Err(SinkError::Url(
            "must be https:// (plain http:// only to 127.0.0.0/8 or [::1])".into(),
        )),
    }
}

fn check_syslog(s: &SyslogSink) -> Result<(), SinkError> {
    let (host, port) = s.address.rsplit_once(':').ok_or(SinkError::Address)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(SinkError::Address);
    }
    if s.facility.is_some_and(|f| f > 23) {
        return Err(SinkError::Facility);
    }
    check_ca(&s.ca_pem)
}

/// The host part of `address`, brackets removed: the name the receiver's certificate is
/// checked against when the sink names none.
pub(crate) fn address_host(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Whether `host` is an IP address literal.
pub(crate) fn is_ip(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok()
}

/// Checks `spec` and splits off its secret: the spec to store, and the secret to seal.
pub(crate) fn prepare(
    mut spec: SinkSpec,
) -> Result<(SinkSpec, Option<Zeroizing<String>>), SinkError> {
    match &mut spec {
        SinkSpec::Webhook(WebhookSink {
            url,
            secret,
            ca_pem,
            ..
        }) => {
            check_url(url)?;
            if let Some(ca) = ca_pem {
                check_ca(ca)?;
            }
            let secret = secret.take().map(Zeroizing::new);
            if secret.as_ref().is_none_or(|s| s.len() < MIN_SECRET) {
                return Err(SinkError::Secret);
            }
            Ok((spec, secret))
        }
        SinkSpec::Syslog(s) => {
            check_syslog(s)?;
            Ok((spec, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, secret: &str) -> SinkSpec {
        SinkSpec::Webhook(WebhookSink {
            url: url.into(),
            secret: Some(secret.into()),
            ca_pem: None,
            min_severity: None,
        })
    }

    #[test]
    fn webhooks_go_over_https_or_to_loopback_and_their_secret_is_split_off() {
        let (spec, secret) = prepare(hook("https://siem.example/in", "0123456789abcdef")).unwrap();
        assert!(matches!(spec, SinkSpec::Webhook(ref w) if w.secret.is_none()));
        assert_eq!(secret.unwrap().as_str(), "0123456789abcdef");
        assert!(prepare(hook("http://127.0.0.1:9/x", "0123456789abcdef")).is_ok());
        assert!(prepare(hook("http://[::1]:9/x", "0123456789abcdef")).is_ok());
        for bad in [
            "http://siem.example/in",
            "http://localhost/in",
            "ftp://127.0.0.1/",
            "https://user:pw@siem.example/",
            "https://siem.example/#x",
            "not a url",
        ] {
            assert!(
                matches!(
                    prepare(hook(bad, "0123456789abcdef")),
                    Err(SinkError::Url(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            prepare(hook("https://a.example/", "short")),
            Err(SinkError::Secret)
        ));
    }

    #[test]
    fn names_and_syslog_addresses_are_checked() {
        assert!(check_name("siem-1_a").is_ok());
        for bad in ["", "Upper", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let s = |address: &str, facility| {
            SinkSpec::Syslog(SyslogSink {
                address: address.into(),
                server_name: None,
                ca_pem: "not pem".into(),
                format: Default::default(),
                facility,
                hostname: None,
                min_severity: None,
            })
        };
        assert!(matches!(
            prepare(s("nohost", None)),
            Err(SinkError::Address)
        ));
        assert!(matches!(
            prepare(s("h:99999", None)),
            Err(SinkError::Address)
        ));
        assert!(matches!(
            prepare(s("h:6514", Some(24))),
            Err(SinkError::Facility)
        ));
        assert!(matches!(prepare(s("h:6514", None)), Err(SinkError::Ca(_))));
        assert_eq!(address_host("[::1]:6514"), "::1");
        assert_eq!(address_host("logs.example:6514"), "logs.example");
        assert!(is_ip("::1") && !is_ip("logs.example"));
    }
}
