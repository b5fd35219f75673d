//! The `oci-client` every registry read and write goes through: HTTPS through rustls with
//! aws-lc-rs and the system's CA bundle (or `$SSL_CERT_FILE`); plain HTTP only when the
//! user asks, for a loopback test registry.

use super::RegistryError;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::{Client, Reference};
use std::time::Duration;

/// A client for `reference`'s registry.
pub fn client(
    reference: &Reference,
    plain_http: bool,
    read_timeout: Duration,
) -> Result<Client, RegistryError> {
    // reqwest is built without a crypto provider of its own; aws-lc-rs is the process's.
    ironroot_tls::install_process_provider();
    let protocol = if plain_http {
        ClientProtocol::HttpsExcept(vec![reference.resolve_registry().to_owned()])
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        extra_root_certificates: system_roots(),
        platform_resolver: None,
        read_timeout: Some(read_timeout),
        connect_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    };
    Client::try_from(config).map_err(|e| RegistryError::Client(e.to_string()))
}

/// The system's trust anchors, found where `ironroot-tls` says the bundle is (reqwest is
/// built with manual roots only). No bundle: no anchors, and every https registry fails
/// verification with a clear error.
fn system_roots() -> Vec<Certificate> {
    use rustls_pki_types::pem::PemObject;
    let Ok(pem) = std::fs::read(ironroot_tls::system_bundle_path()) else {
        return Vec::new();
    };
    rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
        .flatten()
        .map(|der| Certificate {
            encoding: CertificateEncoding::Der,
            data: der.to_vec(),
        })
        .collect()
}
