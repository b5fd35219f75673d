//! ID token verification without I/O: a token, the issuer's keys and what to expect in, a
//! verified [`IdToken`] or the one check that failed out. The order is fixed: shape and
//! size, algorithm, key, signature, and only then the claims, so nothing an attacker wrote
//! is interpreted before the issuer's signature vouches for it.

use crate::claims::{self, Expectations, IdToken};
use crate::jwks::KeySet;
use crate::token;
use ironroot_crypto::JwsAlgorithm;

/// Why an ID token was refused. Each variant names one check; none carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("the ID token is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("the ID token is not a compact JWS: {0}")]
    Malformed(&'static str),
    #[error("the ID token is signed with {0:?}, which is not allowed (RS256 or ES256 only)")]
    AlgorithmNotAllowed(String),
    #[error("the ID token's header lists critical extensions (crit), which are not supported")]
    CriticalHeader,
    #[error("the issuer's key set has no {alg} key with the id {kid:?}")]
    UnknownKey {
        kid: Option<String>,
        alg: &'static str,
    },
    #[error("the ID token's signature does not verify with the issuer's key")]
    BadSignature,
    #[error("the ID token's claims are malformed: {0}")]
    Claims(&'static str),
    #[error("the ID token's {0} claim has the wrong type")]
    ClaimType(&'static str),
    #[error("the ID token has no {0} claim")]
    MissingClaim(&'static str),
    #[error("the ID token was issued by {got:?}, not by {expected:?}")]
    Issuer { expected: String, got: String },
    #[error("the ID token is for {got:?}, not for the client {client_id:?}")]
    Audience { client_id: String, got: Vec<String> },
    #[error("the ID token's authorized party (azp) is {got:?}, not the client {client_id:?}")]
    AuthorizedParty {
        client_id: String,
        got: Option<String>,
    },
    #[error("the ID token expired at {exp} (now {now}, clock skew {skew} s)")]
    Expired { exp: u64, now: u64, skew: u64 },
    #[error("the ID token is not valid before {nbf} (now {now}, clock skew {skew} s)")]
    NotYetValid { nbf: u64, now: u64, skew: u64 },
    #[error("the ID token was issued in the future, at {iat} (now {now}, clock skew {skew} s)")]
    IssuedInFuture { iat: u64, now: u64, skew: u64 },
    #[error("the ID token's nonce is not the one this sign-in sent")]
    Nonce,
}

/// Both algorithms ironroot accepts; a provider's metadata may narrow them.
pub const ALLOWED_ALGORITHMS: &[JwsAlgorithm] = &[JwsAlgorithm::Rs256, JwsAlgorithm::Es256];

/// Verifies `token` against the issuer's `keys`, accepting only `algorithms` (a subset of
/// [`ALLOWED_ALGORITHMS`]), then checks its claims against `expect`.
pub fn verify_id_token(
    token: &str,
    keys: &KeySet,
    algorithms: &[JwsAlgorithm],
    expect: &Expectations<'_>,
) -> Result<IdToken, VerifyError> {
    let signed = token::parse(token)?;
    if !algorithms.contains(&signed.alg) {
        return Err(VerifyError::AlgorithmNotAllowed(
            signed.alg.name().to_owned(),
        ));
    }
    let key = keys
        .find(signed.kid.as_deref(), signed.alg)
        .ok_or_else(|| VerifyError::UnknownKey {
            kid: signed.kid.clone(),
            alg: signed.alg.name(),
        })?;
    key.verify(signed.alg, signed.signing_input, &signed.signature)
        .map_err(|_| VerifyError::BadSignature)?;
    claims::check(&signed.payload, expect)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
