//! The one way ironroot sets up an outgoing HTTPS client: reqwest over a rustls
//! configuration from `ironroot-tls` (aws-lc-rs, the platform's protocol versions) that
//! trusts the roots it is given and nothing else, never follows a redirect (it could take a
//! bearer token or a signed body to another scheme or host), and gives up after a bounded
//! time. Used by this crate's [`crate::Client`], OpenID Connect discovery and key sets
//! (`ironroot-oidc`) and the service's webhook sink.
//!
//! Here rather than in `ironroot-tls`: that crate is pure (it builds configurations and never
//! opens a socket, `scripts/check-layers.sh`), and reqwest is a network library.

use ironroot_tls::{Identity, RootCertStore, TlsError};
use std::time::Duration;

/// How long a connection (TCP and TLS handshake) may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the client could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpsError {
    /// rustls refused the configuration (an identity whose key does not match, no roots).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// reqwest could not build the client.
    #[error("{0}")]
    Build(String),
}

/// An HTTPS client trusting `roots` only, presenting `identity` for mutual TLS if given,
/// with `timeout` for a whole request and [`CONNECT_TIMEOUT`] to connect.
pub fn https_client(
    roots: RootCertStore,
    identity: Option<Identity>,
    timeout: Duration,
) -> Result<reqwest::Client, HttpsError> {
    let tls = ironroot_tls::client_config(roots, identity)?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HttpsError::Build(crate::error_chain(&e)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn self_signed(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn builds_with_the_given_roots_and_an_identity() {
        let (ca, _) = self_signed("ca");
        let (cert, key) = self_signed("node-1");
        let roots = ironroot_tls::roots_from_pem(ca.as_bytes()).unwrap();
        let id = Identity::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        assert!(https_client(roots, Some(id), Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn an_identity_whose_key_is_not_its_certificates_is_a_tls_error() {
        let (ca, _) = self_signed("ca");
        let (cert, _) = self_signed("node-1");
        let (_, other_key) = self_signed("node-2");
        let roots = ironroot_tls::roots_from_pem(ca.as_bytes()).unwrap();
        let id = Identity::from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap();
        assert!(matches!(
            https_client(roots, Some(id), Duration::from_secs(1)),
            Err(HttpsError::Tls(_))
        ));
    }
}
