//! Talking to OCI registries (`scan`, `sign`, `verify`): one `oci-client` set up the same
//! way everywhere, and the user's credentials ([`auth`]).

pub mod auth;

use anyhow::Context;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::{Client, Reference};
use std::time::Duration;

/// A client for `reference`'s registry: HTTPS through rustls with aws-lc-rs and the
/// system's CA bundle (or `$SSL_CERT_FILE`); plain HTTP only when the user asks, for a
/// loopback test registry.
pub fn client(
    reference: &Reference,
    plain_http: bool,
    read_timeout: Duration,
) -> anyhow::Result<Client> {
    // reqwest is built without a crypto provider of its own; aws-lc-rs is the process's.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    let mut extra_root_certificates = Vec::new();
    if let Ok(pem) = std::fs::read(&bundle) {
        use rustls_pki_types::pem::PemObject;
        for der in rustls_pki_types::CertificateDer::pem_slice_iter(&pem).flatten() {
            extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Der,
                data: der.to_vec(),
            });
        }
    }
    let protocol = if plain_http {
        ClientProtocol::HttpsExcept(vec![reference.resolve_registry().to_owned()])
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        extra_root_certificates,
        platform_resolver: None,
        read_timeout: Some(read_timeout),
        connect_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    };
    Client::try_from(config).context("the registry client")
}
