//! The Authorization Code grant's last step (OpenID Connect Core 1.0 section 3.1.3, RFC
//! 6749 section 4.1.3) with PKCE (RFC 7636): what is sent to the token endpoint, checked
//! before it leaves, and the token endpoint's answer, parsed with a size limit. Pure: the
//! request itself is sent by [`crate::Provider::exchange_code`].
//!
//! The answer's `id_token` is only extracted here; it is trusted after the same signature
//! and claim checks as any other ([`crate::verify_id_token`]), with the sign-in's nonce.

/// The largest token endpoint answer accepted, in bytes: an ID token (at most
/// [`crate::MAX_TOKEN_BYTES`]) with an access and a refresh token fits in well under it.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// The largest authorization code accepted (real ones are 20 to 500 characters).
pub const MAX_CODE_BYTES: usize = 2048;
/// The largest nonce accepted.
pub const MAX_NONCE_BYTES: usize = 256;

/// Why a code could not be exchanged. The code, verifier and tokens are never part of
/// the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    #[error("the provider's metadata has no token_endpoint")]
    NoTokenEndpoint,
    #[error("the authorization code is empty, longer than {MAX_CODE_BYTES} bytes, or not printable ASCII")]
    BadCode,
    #[error(
        "the PKCE code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 section 4.1)"
    )]
    BadVerifier,
    #[error("the nonce is empty, longer than {MAX_NONCE_BYTES} bytes, or not printable ASCII")]
    BadNonce,
    /// RFC 6749 section 5.2: the provider refused the grant (`invalid_grant` for a code
    /// already used, expired, or sent with another verifier or redirect URI).
    #[error("the provider refused the code: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the token endpoint sent more than {max} bytes")]
    TooLarge { max: usize },
    #[error("the token endpoint answered HTTP {0} without an OAuth error")]
    Status(u16),
    #[error("the token endpoint's answer is not a token response with an id_token: {0}")]
    Malformed(String),
}

/// Checks what the browser sent before any of it reaches the provider.
pub(crate) fn check_inputs(code: &str, verifier: &str, nonce: &str) -> Result<(), CodeError> {
    let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    if code.is_empty() || code.len() > MAX_CODE_BYTES || !printable(code) {
        return Err(CodeError::BadCode);
    }
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(CodeError::BadVerifier);
    }
    if nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES || !printable(nonce) {
        return Err(CodeError::BadNonce);
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct Success {
    id_token: Option<String>,
    token_type: Option<String>,
}

#[derive(serde::Deserialize)]
struct Failure {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The raw `id_token` of a token endpoint answer (`status` and body), or why there is none.
pub(crate) fn parse_token_response(status: u16, body: &[u8]) -> Result<String, CodeError> {
    if body.len() > MAX_TOKEN_RESPONSE_BYTES {
        return Err(CodeError::TooLarge {
            max: MAX_TOKEN_RESPONSE_BYTES,
        });
    }
    if status != 200 {
        // The provider's words go into a log and to the person signing in: shortened
        // and stripped of anything but printable characters.
        return match serde_json::from_slice::<Failure>(body) {
            Ok(f) => Err(CodeError::Refused {
                error: printable(&f.error, 64),
                description: f.error_description.map(|d| printable(&d, 200)),
            }),
            Err(_) => Err(CodeError::Status(status)),
        };
    }
    let ok: Success =
        serde_json::from_slice(body).map_err(|e| CodeError::Malformed(e.to_string()))?;
    // RFC 6749 section 5.1: the type is case-insensitive; OIDC Core 3.1.3.3 says Bearer.
    if let Some(t) = &ok.token_type {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(CodeError::Malformed(format!(
                "token_type {:?}, not Bearer",
                printable(t, 32)
            )));
        }
    }
    match ok.id_token {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(CodeError::Malformed(
            "no id_token (was the scope openid asked for?)".into(),
        )),
    }
}

fn printable(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn the_id_token_is_taken_from_a_bearer_answer() {
        let body =
            br#"{"access_token":"a","token_type":"bearer","expires_in":600,"id_token":"h.p.s"}"#;
        assert_eq!(parse_token_response(200, body).unwrap(), "h.p.s");
        let untyped = br#"{"id_token":"h.p.s"}"#;
        assert_eq!(parse_token_response(200, untyped).unwrap(), "h.p.s");
    }

    #[test]
    fn an_answer_without_an_id_token_or_of_another_type_is_refused() {
        for body in [
            &br#"{"access_token":"a","token_type":"Bearer"}"#[..],
            br#"{"id_token":"","token_type":"Bearer"}"#,
            br#"{"id_token":"h.p.s","token_type":"DPoP"}"#,
            br#"{"id_token":7}"#,
            b"[]",
            b"<html>",
        ] {
            assert!(
                matches!(
                    parse_token_response(200, body),
                    Err(CodeError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn an_oauth_error_is_reported_cleaned_and_a_bare_status_as_such() {
        let body =
            br#"{"error":"invalid_grant","error_description":"Invalid or expired code\u0000\n."}"#;
        let e = parse_token_response(400, body).unwrap_err();
        assert_eq!(
            e,
            CodeError::Refused {
                error: "invalid_grant".into(),
                description: Some("Invalid or expired code.".into()),
            }
        );
        assert_eq!(
            e.to_string(),
            "the provider refused the code: invalid_grant (Invalid or expired code.)"
        );
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(500));
        match parse_token_response(401, long.as_bytes()) {
            Err(CodeError::Refused { error, description }) => {
                assert_eq!(error.len(), 64);
                assert_eq!(description, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_token_response(502, b"Bad Gateway"),
            Err(CodeError::Status(502))
        );
    }

    #[test]
    fn an_answer_over_the_limit_is_refused_before_parsing() {
        let mut big = br#"{"id_token":""#.to_vec();
        big.resize(MAX_TOKEN_RESPONSE_BYTES, b'a');
        big.extend_from_slice(br#""}"#);
        assert_eq!(
            parse_token_response(200, &big),
            Err(CodeError::TooLarge {
                max: MAX_TOKEN_RESPONSE_BYTES
            })
        );
    }

    #[test]
    fn code_verifier_and_nonce_are_checked_before_sending() {
        assert_eq!(check_inputs("c0de", VERIFIER, "n0nce"), Ok(()));
        assert_eq!(
            check_inputs("c0de", &"a".repeat(128), "n"),
            Ok(()),
            "128 is the longest verifier"
        );
        for code in ["", "a b", "é", &"a".repeat(MAX_CODE_BYTES + 1)] {
            assert_eq!(check_inputs(code, VERIFIER, "n"), Err(CodeError::BadCode));
        }
        for v in [
            &VERIFIER[..42],
            &"a".repeat(129),
            &format!("{}+", &VERIFIER[..43]),
            &format!("{}=", &VERIFIER[..43]),
        ] {
            assert_eq!(
                check_inputs("c", v, "n"),
                Err(CodeError::BadVerifier),
                "{v}"
            );
        }
        for n in ["", "a\nb", &"n".repeat(MAX_NONCE_BYTES + 1)] {
            assert_eq!(check_inputs("c", VERIFIER, n), Err(CodeError::BadNonce));
        }
    }
}
