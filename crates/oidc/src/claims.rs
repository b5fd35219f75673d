//! The claims of an ID token (OpenID Connect Core 1.0 section 3.1.3.7, steps 2 to 11) and the
//! checks on them: issuer, audience and authorized party, expiry, not-before and issued-at
//! with a bounded clock skew, and the nonce.

use crate::VerifyError;
use serde_json::{Map, Value};
use std::time::Duration;

/// How far the provider's clock and ours may disagree: 60 s unless configured, never more
/// than 5 minutes (a larger skew would keep an expired token alive that much longer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew(u64);

impl ClockSkew {
    pub const DEFAULT: ClockSkew = ClockSkew(60);
    pub const MAX: ClockSkew = ClockSkew(300);

    /// Refuses a skew over [`ClockSkew::MAX`]; sub-second parts are dropped.
    pub fn new(skew: Duration) -> Result<ClockSkew, SkewTooLarge> {
        let secs = skew.as_secs();
        if secs > ClockSkew::MAX.0 {
            return Err(SkewTooLarge(secs));
        }
        Ok(ClockSkew(secs))
    }

    pub fn as_secs(self) -> u64 {
        self.0
    }
}

impl Default for ClockSkew {
    fn default() -> ClockSkew {
        ClockSkew::DEFAULT
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a clock skew of {0} s is more than the 300 s allowed")]
pub struct SkewTooLarge(pub u64);

/// What an ID token must say to be accepted.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The issuer, exactly as discovery returned it (no normalisation: OIDC compares exactly).
    pub issuer: &'a str,
    /// Our client id at the provider.
    pub client_id: &'a str,
    /// The nonce sent in the authentication request, when the flow used one: the token must
    /// carry exactly it. `None` accepts a token with or without one.
    pub nonce: Option<&'a str>,
    pub skew: ClockSkew,
    /// Unix seconds now (injected, so tests can move the clock).
    pub now: u64,
}

/// A verified ID token: who signed in, for whom, until when.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdToken {
    pub issuer: String,
    /// The provider's stable identifier of the person (`sub`).
    pub subject: String,
    pub audience: Vec<String>,
    pub expires_at: u64,
    pub issued_at: u64,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    /// Every claim, for the ones above and any other (`groups`, `preferred_username`...).
    pub claims: Map<String, Value>,
}

/// Checks the claims of a token whose signature was verified.
pub(crate) fn check(payload: &[u8], expect: &Expectations<'_>) -> Result<IdToken, VerifyError> {
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|_| VerifyError::Claims("the payload is not a JSON object"))?;
    let iss = string(&claims, "iss")?.ok_or(VerifyError::MissingClaim("iss"))?;
    if iss != expect.issuer {
        return Err(VerifyError::Issuer {
            expected: expect.issuer.to_owned(),
            got: iss,
        });
    }
    let subject = string(&claims, "sub")?.ok_or(VerifyError::MissingClaim("sub"))?;
    let audience = audience(&claims)?;
    if !audience.iter().any(|a| a == expect.client_id) {
        return Err(VerifyError::Audience {
            client_id: expect.client_id.to_owned(),
            got: audience,
        });
    }
    // Core 3.1.3.7 steps 4 and 5: with several audiences, the token must have been issued
    // to us (azp); an azp present at all must be us.
    let azp = string(&claims, "azp")?;
    if (audience.len() > 1 || azp.is_some()) && azp.as_deref() != Some(expect.client_id) {
        return Err(VerifyError::AuthorizedParty {
            client_id: expect.client_id.to_owned(),
            got: azp,
        });
    }
    let (now, skew) = (expect.now, expect.skew.as_secs());
    let exp = time(&claims, "exp")?.ok_or(VerifyError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(skew) {
        return Err(VerifyError::Expired { exp, now, skew });
    }
    if let Some(nbf) = time(&claims, "nbf")? {
        if now.saturating_add(skew) < nbf {
            return Err(VerifyError::NotYetValid { nbf, now, skew });
        }
    }
    let iat = time(&claims, "iat")?.ok_or(VerifyError::MissingClaim("iat"))?;
    if iat > now.saturating_add(skew) {
        return Err(VerifyError::IssuedInFuture { iat, now, skew });
    }
    if let Some(want) = expect.nonce {
        match string(&claims, "nonce")? {
            None => return Err(VerifyError::MissingClaim("nonce")),
            // Not a secret compared against a guess: the nonce is ours; plain equality.
            Some(got) if got != want => return Err(VerifyError::Nonce),
            Some(_) => {}
        }
    }
    Ok(IdToken {
        issuer: iss,
        subject,
        audience,
        expires_at: exp,
        issued_at: iat,
        email: string(&claims, "email")?,
        email_verified: match claims.get("email_verified") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(VerifyError::Claims("email_verified is not a boolean")),
        },
        name: string(&claims, "name")?,
        claims,
    })
}

fn string(claims: &Map<String, Value>, name: &'static str) -> Result<Option<String>, VerifyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(VerifyError::ClaimType(name)),
    }
}

/// A NumericDate (RFC 7519): seconds, possibly fractional; a negative or non-numeric one is
/// refused rather than read as 0.
fn time(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, VerifyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(t), _) => Ok(Some(t)),
            (None, Some(f)) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => {
                // Truncation is intended: a fractional second never extends validity.
                Ok(Some(f as u64))
            }
            _ => Err(VerifyError::ClaimType(name)),
        },
        Some(_) => Err(VerifyError::ClaimType(name)),
    }
}

/// `aud` is one string or an array of strings (RFC 7519 section 4.1.3); an empty one is
/// missing.
fn audience(claims: &Map<String, Value>) -> Result<Vec<String>, VerifyError> {
    let aud = match claims.get("aud") {
        None | Some(Value::Null) => return Err(VerifyError::MissingClaim("aud")),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(VerifyError::ClaimType("aud"))?,
        Some(_) => return Err(VerifyError::ClaimType("aud")),
    };
    if aud.is_empty() {
        return Err(VerifyError::MissingClaim("aud"));
    }
    Ok(aud)
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
