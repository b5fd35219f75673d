//! The compact JWS form of an ID token (RFC 7515 section 7.1), split and decoded with limits
//! before anything else looks at it, and its header checked against the algorithm allow list.

use crate::VerifyError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ironroot_crypto::JwsAlgorithm;

/// The largest token accepted, in bytes. Real ID tokens are 1 to 3 KiB (a few hundred
/// groups make a large one); anything this big is refused before decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The largest encoded header: `alg`, `kid`, `typ` fit in well under 512 bytes.
const MAX_HEADER_BYTES: usize = 1024;

/// A token whose shape and header were checked; its signature is not checked yet.
#[derive(Debug)]
pub(crate) struct SignedToken<'a> {
    pub alg: JwsAlgorithm,
    pub kid: Option<String>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers.
    pub signing_input: &'a [u8],
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The header members this verifier reads. Unknown members are ignored, as RFC 7515 asks,
/// except `crit`, which names extensions a verifier must understand (and this one
/// understands none). `jku`, `x5u` and `jwk` are never followed: keys come only from the
/// issuer's own JWKS.
#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Splits `token` into its three parts and checks the header.
pub(crate) fn parse(token: &str) -> Result<SignedToken<'_>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_BYTES,
        });
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    if h.len() > MAX_HEADER_BYTES {
        return Err(VerifyError::Malformed("the header is too long"));
    }
    let header = B64
        .decode(h)
        .map_err(|_| VerifyError::Malformed("the header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header)
        .map_err(|_| VerifyError::Malformed("the header is not a JSON object with an alg"))?;
    if header.crit.is_some() {
        return Err(VerifyError::CriticalHeader);
    }
    let alg = JwsAlgorithm::from_name(&header.alg)
        .ok_or_else(|| VerifyError::AlgorithmNotAllowed(header.alg.clone()))?;
    let payload = B64
        .decode(p)
        .map_err(|_| VerifyError::Malformed("the payload is not base64url"))?;
    let signature = B64
        .decode(s)
        .map_err(|_| VerifyError::Malformed("the signature is not base64url"))?;
    Ok(SignedToken {
        alg,
        kid: header.kid,
        signing_input: &token.as_bytes()[..h.len() + 1 + p.len()],
        payload,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        B64.encode(s)
    }

    #[test]
    fn none_hmac_and_unknown_algorithms_are_refused_by_name() {
        for alg in [
            "none", "NONE", "HS256", "HS384", "HS512", "RS512", "PS256", "EdDSA",
        ] {
            let t = format!("{}.{}.", b64(&format!(r#"{{"alg":"{alg}"}}"#)), b64("{}"));
            assert_eq!(
                parse(&t).unwrap_err(),
                VerifyError::AlgorithmNotAllowed(alg.into()),
                "{alg}"
            );
        }
    }

    #[test]
    fn shape_limits_and_crit_are_enforced() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert!(matches!(parse(&big), Err(VerifyError::TooLarge { .. })));
        for t in ["", "a.b", "a.b.c.d", "!!.e30.AA"] {
            assert!(matches!(parse(t), Err(VerifyError::Malformed(_))), "{t}");
        }
        let long_header = format!("{}.e30.AA", "e".repeat(MAX_HEADER_BYTES + 1));
        assert!(matches!(
            parse(&long_header),
            Err(VerifyError::Malformed(_))
        ));
        let crit = format!(
            "{}.e30.AA",
            b64(r#"{"alg":"ES256","crit":["b64"],"b64":false}"#)
        );
        assert_eq!(parse(&crit).unwrap_err(), VerifyError::CriticalHeader);
        // Padding is not base64url as JWS writes it.
        let padded = format!("{}.e30=.AA", b64(r#"{"alg":"ES256"}"#));
        assert!(matches!(parse(&padded), Err(VerifyError::Malformed(_))));
    }

    #[test]
    fn a_well_formed_token_yields_its_parts() {
        let h = b64(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let t = format!("{h}.e30.AQID");
        let s = parse(&t).unwrap();
        assert_eq!(s.alg, JwsAlgorithm::Rs256);
        assert_eq!(s.kid.as_deref(), Some("k1"));
        assert_eq!(s.signing_input, format!("{h}.e30").as_bytes());
        assert_eq!(s.payload, b"{}");
        assert_eq!(s.signature, [1, 2, 3]);
    }
}
