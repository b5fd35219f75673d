//! Every rustls configuration ironroot builds, server and client, comes from here, so that
//! the crypto provider (aws-lc-rs, the one the rest of the platform uses) and the protocol
//! versions are chosen once and cannot drift apart between the service, the agent, the
//! command-line tool, the key provider and the tests.
//!
//! This crate only builds configurations and reads PEM: it must never open a socket,
//! choose a second provider, or offer a way to skip certificate verification.

#![forbid(unsafe_code)]

mod pem;

pub use pem::{
    certs_from_pem, roots_from_bundle, roots_from_pem, system_bundle_path, system_roots,
};
pub use rustls::{ClientConfig, RootCertStore, ServerConfig};

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// The protocols the service offers over ALPN. Clients send no ALPN and speak HTTP/1.1.
pub const SERVICE_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM document (certificate or key) could not be read.
    #[error("{0}")]
    Pem(String),
    /// A certificate was not accepted as a trust anchor.
    #[error("{0}")]
    Anchor(String),
    /// rustls refused the configuration (a key that does not match, no usable roots).
    #[error("{0}")]
    Config(String),
}

/// The crypto provider of every configuration: aws-lc-rs, the same one
/// `ironroot-crypto` uses, so the process has a single crypto stack.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Makes [`provider`] the process's default, for libraries that build their rustls
/// configuration themselves from the default (reqwest inside oci-client). Idempotent: a
/// process that already has a default keeps it, and it can only be this one, since no
/// other provider is linked (`deny.toml`).
pub fn install_process_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A certificate chain and its private key, presented by a client (mTLS) or the service.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// From a PEM certificate (the first one is the leaf) and a PEM private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity, TlsError> {
        let chain =
            vec![CertificateDer::from_pem_slice(cert_pem)
                .map_err(|e| TlsError::Pem(e.to_string()))?];
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem(e.to_string()))?;
        Ok(Identity { chain, key })
    }

    /// From a PEM certificate and a PKCS#8 private key in DER.
    pub fn from_pem_and_pkcs8(cert_pem: &[u8], key_der: Vec<u8>) -> Result<Identity, TlsError> {
        let chain =
            vec![CertificateDer::from_pem_slice(cert_pem)
                .map_err(|e| TlsError::Pem(e.to_string()))?];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der));
        Ok(Identity { chain, key })
    }
}

/// A client configuration trusting only `roots`, presenting `identity` if given.
pub fn client_config(
    roots: RootCertStore,
    identity: Option<Identity>,
) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some(id) => builder
            .with_client_auth_cert(id.chain, id.key)
            .map_err(|e| TlsError::Config(e.to_string())),
    }
}

/// A client configuration for the service: its CA (PEM, one or more certificates) is the
/// only trust anchor, and `identity` is the agent's client certificate, if enrolled.
pub fn service_client_config(
    ca_pem: &[u8],
    identity: Option<Identity>,
) -> Result<ClientConfig, TlsError> {
    client_config(roots_from_pem(ca_pem)?, identity)
}

/// The service's listener configuration: it presents `identity`, offers
/// [`SERVICE_ALPN`], and asks for a client certificate issued by `client_ca_pem` without
/// requiring one (an agent enrolls before it has a certificate; handlers that need an
/// enrolled agent check the identity themselves).
pub fn server_config(
    client_ca_pem: &[u8],
    identity: Identity,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let roots = roots_from_pem(client_ca_pem)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain, identity.key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    cfg.alpn_protocols = SERVICE_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

/// A listener that asks for no client certificate (the admission webhook: the API server
/// calls it, and what it answers is no secret), presenting `identity` with the service's
/// protocol versions and ALPN.
pub fn open_server_config(identity: Identity) -> Result<Arc<ServerConfig>, TlsError> {
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    cfg.alpn_protocols = SERVICE_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests;
