//! The OAuth 2.0 Device Authorization Grant (RFC 8628) as `ironroot login` speaks it: the
//! provider's answers parsed within a size limit and their numbers bounded, and each
//! answer of the token endpoint classified (a token, keep waiting, slow down, or why it
//! failed). No I/O here: `login.rs` sends the requests.

use serde::Deserialize;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest answer read from the provider's device or token endpoint (real ones are
/// 1 to 4 KiB; an ID token is at most `ironroot_oidc::MAX_TOKEN_BYTES`).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The grant type of the polling requests (RFC 8628 section 3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// What is asked for: an ID token with the verified e-mail address the service binds
/// people by.
pub const SCOPE: &str = "openid email profile";
/// The interval when the provider names none (RFC 8628 section 3.2).
const DEFAULT_INTERVAL: u64 = 5;
/// Bounds on what a provider may ask: never poll faster than once a second, nor wait
/// more than a minute between polls or half an hour in all.
const MIN_INTERVAL: u64 = 1;
const MAX_INTERVAL: u64 = 60;
const MAX_EXPIRES_IN: u64 = 1800;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    #[error("the provider's answer is {0} bytes, more than the {MAX_ANSWER_BYTES} allowed")]
    TooLarge(usize),
    #[error("the provider's device authorization answer is not one: {0}")]
    Malformed(String),
    #[error("the provider's verification URI {0:?} is not an http(s) URL")]
    BadVerificationUri(String),
}

#[derive(Deserialize)]
struct Answer {
    device_code: String,
    user_code: String,
    // Google's endpoint spells it verification_url.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

/// What the person is asked to do, and what the command polls with.
pub struct DeviceAuthorization {
    pub device_code: Zeroizing<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

impl DeviceAuthorization {
    pub fn from_json(body: &[u8]) -> Result<DeviceAuthorization, DeviceError> {
        if body.len() > MAX_ANSWER_BYTES {
            return Err(DeviceError::TooLarge(body.len()));
        }
        let a: Answer =
            serde_json::from_slice(body).map_err(|e| DeviceError::Malformed(e.to_string()))?;
        let device_code = Zeroizing::new(a.device_code);
        if a.user_code.is_empty() || device_code.is_empty() {
            return Err(DeviceError::Malformed("an empty code".into()));
        }
        for uri in std::iter::once(&a.verification_uri).chain(&a.verification_uri_complete) {
            if !(uri.starts_with("https://") || uri.starts_with("http://"))
                || uri.chars().any(char::is_control)
            {
                return Err(DeviceError::BadVerificationUri(uri.clone()));
            }
        }
        Ok(DeviceAuthorization {
            device_code,
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            verification_uri_complete: a.verification_uri_complete,
            expires_in: Duration::from_secs(a.expires_in.min(MAX_EXPIRES_IN)),
            interval: Duration::from_secs(
                a.interval
                    .unwrap_or(DEFAULT_INTERVAL)
                    .clamp(MIN_INTERVAL, MAX_INTERVAL),
            ),
        })
    }
}

/// One answer of the token endpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Signed in: the ID token (not yet verified).
    IdToken(Zeroizing<String>),
    /// The person has not finished yet.
    Pending,
    /// Polling too fast: wait 5 s more from now on (RFC 8628 section 3.5).
    SlowDown,
    /// The sign-in ended without a token, and why.
    Failed(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The next interval after `slow_down`.
pub fn slowed(interval: Duration) -> Duration {
    (interval + Duration::from_secs(5)).min(Duration::from_secs(MAX_INTERVAL))
}

/// What the token endpoint's answer (`status`, `body`) means.
pub fn classify(status: u16, body: &[u8]) -> Poll {
    if body.len() > MAX_ANSWER_BYTES {
        return Poll::Failed(DeviceError::TooLarge(body.len()).to_string());
    }
    let Ok(a) = serde_json::from_slice::<TokenAnswer>(body) else {
        return Poll::Failed(format!(
            "the token endpoint answered HTTP {status} with no OAuth answer"
        ));
    };
    if (200..300).contains(&status) {
        return match a.id_token {
            Some(t) if !t.is_empty() => Poll::IdToken(Zeroizing::new(t)),
            _ => Poll::Failed(
                "the provider answered without an ID token (does the client get the openid scope?)"
                    .into(),
            ),
        };
    }
    let detail = a
        .error_description
        .map(|d| format!(": {}", ironroot_client::printable(&d)))
        .unwrap_or_default();
    match a.error.as_deref() {
        Some("authorization_pending") => Poll::Pending,
        Some("slow_down") => Poll::SlowDown,
        Some("access_denied") => Poll::Failed(format!("the sign-in was refused{detail}")),
        Some("expired_token") => Poll::Failed(format!(
            "the code expired before the sign-in finished; run ironroot login again{detail}"
        )),
        Some(other) => Poll::Failed(format!(
            "the provider refused: {}{detail}",
            ironroot_client::printable(other)
        )),
        None => Poll::Failed(format!("the token endpoint answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DEX: &str = r#"{"device_code":"dc","user_code":"ABCD-EFGH",
        "verification_uri":"http://127.0.0.1:5556/dex/device",
        "verification_uri_complete":"http://127.0.0.1:5556/dex/device?user_code=ABCD-EFGH",
        "expires_in":300,"interval":5}"#;

    #[test]
    fn a_device_authorization_is_read_and_its_numbers_bounded() {
        let d = DeviceAuthorization::from_json(DEX.as_bytes()).unwrap();
        assert_eq!(d.user_code, "ABCD-EFGH");
        assert_eq!(d.device_code.as_str(), "dc");
        assert_eq!(d.expires_in, Duration::from_secs(300));
        assert_eq!(d.interval, Duration::from_secs(5));
        let greedy = r#"{"device_code":"d","user_code":"u","verification_url":"https://x/d",
            "expires_in":99999999,"interval":0}"#;
        let d = DeviceAuthorization::from_json(greedy.as_bytes()).unwrap();
        assert_eq!(d.expires_in, Duration::from_secs(MAX_EXPIRES_IN));
        assert_eq!(d.interval, Duration::from_secs(MIN_INTERVAL));
        let none = r#"{"device_code":"d","user_code":"u","verification_uri":"https://x/d","expires_in":60}"#;
        let d = DeviceAuthorization::from_json(none.as_bytes()).unwrap();
        assert_eq!(d.interval, Duration::from_secs(DEFAULT_INTERVAL));
    }

    #[test]
    fn hostile_device_answers_are_refused() {
        let js = r#"{"device_code":"d","user_code":"u","verification_uri":"javascript:alert(1)","expires_in":60}"#;
        assert!(matches!(
            DeviceAuthorization::from_json(js.as_bytes()),
            Err(DeviceError::BadVerificationUri(_))
        ));
        let esc = "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":\"https://x/\\u001b[2J\",\"expires_in\":60}";
        assert!(matches!(
            DeviceAuthorization::from_json(esc.as_bytes()),
            Err(DeviceError::BadVerificationUri(_))
        ));
        let big = vec![b' '; MAX_ANSWER_BYTES + 1];
        assert_eq!(
            DeviceAuthorization::from_json(&big).err(),
            Some(DeviceError::TooLarge(MAX_ANSWER_BYTES + 1))
        );
        assert!(matches!(
            DeviceAuthorization::from_json(br#"{"user_code":"u"}"#),
            Err(DeviceError::Malformed(_))
        ));
    }

    #[test]
    fn token_answers_are_classified() {
        assert_eq!(
            classify(200, br#"{"id_token":"a.b.c","access_token":"x"}"#),
            Poll::IdToken(Zeroizing::new("a.b.c".into()))
        );
        assert_eq!(
            classify(400, br#"{"error":"authorization_pending"}"#),
            Poll::Pending
        );
        assert_eq!(classify(400, br#"{"error":"slow_down"}"#), Poll::SlowDown);
        for (body, says) in [
            (&br#"{"error":"access_denied"}"#[..], "refused"),
            (br#"{"error":"expired_token"}"#, "expired"),
            (
                br#"{"error":"invalid_client","error_description":"bad\nsecret"}"#,
                "invalid_client",
            ),
            (br#"{"access_token":"x"}"#, "without an ID token"),
            (b"<html>", "no OAuth answer"),
        ] {
            let status = if body.starts_with(b"{\"access") {
                200
            } else {
                400
            };
            match classify(status, body) {
                Poll::Failed(m) => {
                    assert!(m.contains(says), "{m}");
                    assert!(!m.contains('\n'), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn slow_down_adds_five_seconds_up_to_the_bound() {
        assert_eq!(slowed(Duration::from_secs(5)), Duration::from_secs(10));
        assert_eq!(
            slowed(Duration::from_secs(58)),
            Duration::from_secs(MAX_INTERVAL)
        );
    }
}
