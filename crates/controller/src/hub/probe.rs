//! Whether the controller's own admission webhook answers: an HTTPS request to its own
//! listener, reported to the hub with every compliance report (`webhook_serving`), so a
//! down webhook is visible centrally.
//!
//! The probe trusts exactly the certificate the webhook was given (`--webhook-cert`),
//! compared byte for byte: it runs on the controller's own address, where no name in that
//! certificate need resolve, and it must not depend on the issuing CA being at hand. It
//! reads nothing from the answer but its status line.
//! (A TLS config outside crates/tls: it pins one certificate and is used for nothing else.)

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The webhook as the probe reaches it.
#[derive(Clone)]
pub struct WebhookProbe {
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
}

impl WebhookProbe {
    /// A probe of the listener at `addr` (an unspecified address is probed on loopback)
    /// presenting the leaf certificate `cert`.
    pub fn new(
        mut addr: SocketAddr,
        cert: CertificateDer<'static>,
    ) -> Result<WebhookProbe, rustls::Error> {
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let provider = ironroot_tls::provider();
        let verifier = Arc::new(Pinned {
            cert,
            provider: provider.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(WebhookProbe {
            addr,
            config: Arc::new(config),
        })
    }

    /// Whether an HTTPS `GET /` gets an HTTP answer (any status) within the timeout.
    pub async fn serving(&self) -> bool {
        tokio::time::timeout(PROBE_TIMEOUT, self.once())
            .await
            .unwrap_or(false)
    }

    async fn once(&self) -> bool {
        let Ok(tcp) = tokio::net::TcpStream::connect(self.addr).await else {
            return false;
        };
        let name = ServerName::IpAddress(self.addr.ip().into());
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let Ok(mut tls) = connector.connect(name, tcp).await else {
            return false;
        };
        let req = b"GET / HTTP/1.1\r\nHost: webhook\r\nConnection: close\r\n\r\n";
        if tls.write_all(req).await.is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        tls.read_exact(&mut head).await.is_ok() && head.starts_with(b"HTTP/1.1 ")
    }
}

#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_probe_sees_a_serving_webhook_and_a_stopped_one() {
        ironroot_tls::install_process_provider();
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let identity = ironroot_tls::Identity::from_pem(
            cert.cert.pem().as_bytes(),
            cert.key_pair.serialize_pem().as_bytes(),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = ironroot_tls::open_server_config(identity).unwrap();
        let router = axum::Router::new();
        let server = tokio::spawn(crate::webhook::serve_router(listener, tls, router));
        let probe = WebhookProbe::new(addr, cert.cert.der().clone()).unwrap();
        assert!(probe.serving().await);
        // Another certificate at that address is not our webhook.
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        assert!(
            !WebhookProbe::new(addr, other.cert.der().clone())
                .unwrap()
                .serving()
                .await
        );
        server.abort();
        let _ = server.await;
        assert!(!probe.serving().await);
    }
}
