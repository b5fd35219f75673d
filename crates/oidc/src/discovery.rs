//! The provider's metadata (OpenID Connect Discovery 1.0 section 3), read from
//! `ISSUER/.well-known/openid-configuration` with a size limit. The `issuer` it states must
//! be exactly the one asked for (section 4.3), so a provider cannot speak for another, and
//! every endpoint must pass the same URL rule as the issuer.

use crate::issuer::{check_endpoint, UrlError};
use ironroot_crypto::JwsAlgorithm;

/// The largest metadata document accepted, in bytes (real ones are 1 to 5 KiB).
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    #[error("the provider metadata is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("the provider metadata is not a JSON object with issuer and jwks_uri: {0}")]
    Malformed(String),
    #[error("the provider metadata names the issuer {got:?}, not {expected:?}")]
    IssuerMismatch { expected: String, got: String },
    #[error("{0}")]
    Url(#[from] UrlError),
    #[error("the provider signs ID tokens only with {0:?}; ironroot accepts RS256 and ES256")]
    NoAllowedAlgorithm(Vec<String>),
}

#[derive(serde::Deserialize)]
struct Document {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
}

/// What ironroot uses of a provider's metadata, each URL checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: reqwest::Url,
    pub authorization_endpoint: Option<reqwest::Url>,
    pub token_endpoint: Option<reqwest::Url>,
    /// RFC 8628, for `ironroot login` on a machine without a browser.
    pub device_authorization_endpoint: Option<reqwest::Url>,
    /// The allowed algorithms the provider says it signs ID tokens with.
    pub signing_algorithms: Vec<JwsAlgorithm>,
}

impl ProviderMetadata {
    /// Parses the metadata and checks it against the issuer we asked.
    pub fn from_json(
        bytes: &[u8],
        expected_issuer: &str,
    ) -> Result<ProviderMetadata, DiscoveryError> {
        if bytes.len() > MAX_METADATA_BYTES {
            return Err(DiscoveryError::TooLarge {
                len: bytes.len(),
                max: MAX_METADATA_BYTES,
            });
        }
        let doc: Document =
            serde_json::from_slice(bytes).map_err(|e| DiscoveryError::Malformed(e.to_string()))?;
        // Exact comparison: no trailing-slash or case folding (Discovery 4.3).
        if doc.issuer != expected_issuer {
            return Err(DiscoveryError::IssuerMismatch {
                expected: expected_issuer.to_owned(),
                got: doc.issuer,
            });
        }
        let optional =
            |what, url: Option<String>| url.map(|u| check_endpoint(what, &u)).transpose();
        // The field is required by Discovery; a provider that leaves it out is taken to
        // sign with RS256, which section 3 makes mandatory to support.
        let signing_algorithms = if doc.id_token_signing_alg_values_supported.is_empty() {
            vec![JwsAlgorithm::Rs256]
        } else {
            let allowed: Vec<JwsAlgorithm> = doc
                .id_token_signing_alg_values_supported
                .iter()
                .filter_map(|a| JwsAlgorithm::from_name(a))
                .collect();
            if allowed.is_empty() {
                return Err(DiscoveryError::NoAllowedAlgorithm(
                    doc.id_token_signing_alg_values_supported,
                ));
            }
            allowed
        };
        Ok(ProviderMetadata {
            jwks_uri: check_endpoint("jwks_uri", &doc.jwks_uri)?,
            authorization_endpoint: optional("authorization_endpoint", doc.authorization_endpoint)?,
            token_endpoint: optional("token_endpoint", doc.token_endpoint)?,
            device_authorization_endpoint: optional(
                "device_authorization_endpoint",
                doc.device_authorization_endpoint,
            )?,
            signing_algorithms,
            issuer: doc.issuer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "http://127.0.0.1:5556/dex";

    fn doc(issuer: &str, jwks: &str, algs: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","jwks_uri":"{jwks}","token_endpoint":"{issuer}/token",
            "device_authorization_endpoint":"{issuer}/device/code",
            "id_token_signing_alg_values_supported":{algs},"response_types_supported":["code"]}}"#
        )
    }

    #[test]
    fn metadata_of_the_expected_issuer_is_read() {
        let m = ProviderMetadata::from_json(
            doc(ISS, &format!("{ISS}/keys"), r#"["RS256","HS256"]"#).as_bytes(),
            ISS,
        )
        .unwrap();
        assert_eq!(m.issuer, ISS);
        assert_eq!(m.jwks_uri.as_str(), format!("{ISS}/keys"));
        assert_eq!(m.signing_algorithms, vec![JwsAlgorithm::Rs256]);
        assert!(m.device_authorization_endpoint.is_some());
        assert!(m.authorization_endpoint.is_none());
    }

    #[test]
    fn issuer_must_match_exactly() {
        for other in [
            "http://127.0.0.1:5556/dex/",
            "http://127.0.0.1:5556/Dex",
            "http://127.0.0.1:5557/dex",
        ] {
            let d = doc(other, &format!("{ISS}/keys"), r#"["RS256"]"#);
            assert!(
                matches!(
                    ProviderMetadata::from_json(d.as_bytes(), ISS),
                    Err(DiscoveryError::IssuerMismatch { .. })
                ),
                "{other}"
            );
        }
    }

    #[test]
    fn endpoints_size_and_algorithms_are_checked() {
        let d = doc(ISS, "http://idp.example/keys", r#"["RS256"]"#);
        assert!(matches!(
            ProviderMetadata::from_json(d.as_bytes(), ISS),
            Err(DiscoveryError::Url(UrlError::NotHttps { .. }))
        ));
        let d = doc(ISS, &format!("{ISS}/keys"), r#"["HS256","none"]"#);
        assert!(matches!(
            ProviderMetadata::from_json(d.as_bytes(), ISS),
            Err(DiscoveryError::NoAllowedAlgorithm(_))
        ));
        let big = vec![b' '; MAX_METADATA_BYTES + 1];
        assert!(matches!(
            ProviderMetadata::from_json(&big, ISS),
            Err(DiscoveryError::TooLarge { .. })
        ));
        assert!(matches!(
            ProviderMetadata::from_json(br#"{"issuer":"x"}"#, ISS),
            Err(DiscoveryError::Malformed(_))
        ));
    }
}
