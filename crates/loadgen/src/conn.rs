//! One persistent HTTPS connection (HTTP/1.1 keep-alive over rustls), as a trust agent
//! keeps to the service. Each simulated node has its own, presenting its own client
//! certificate; enrollment and administration use connections without one.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::http::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use ironroot_tls::{ClientConfig, Identity};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where the service is and how to trust it.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub server_name: ServerName<'static>,
    pub authority: String,
    pub ca_pem: Arc<[u8]>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("HTTP: {0}")]
    Http(String),
}

impl ConnError {
    /// A short stable label for error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnError::Connect(_) => "connect",
            ConnError::Tls(_) => "tls",
            ConnError::Http(_) => "transport",
        }
    }
}

/// A rustls client configuration trusting only the service CA, with an optional
/// client identity (certificate PEM, PKCS#8 key DER).
pub fn tls_config(
    ca_pem: &[u8],
    identity: Option<(&str, Vec<u8>)>,
) -> Result<Arc<ClientConfig>, ConnError> {
    let tls = |e: ironroot_tls::TlsError| ConnError::Tls(e.to_string());
    let identity = identity
        .map(|(cert_pem, key_der)| Identity::from_pem_and_pkcs8(cert_pem.as_bytes(), key_der))
        .transpose()
        .map_err(tls)?;
    let cfg = ironroot_tls::service_client_config(ca_pem, identity).map_err(tls)?;
    Ok(Arc::new(cfg))
}

pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    authority: String,
}

impl Conn {
    pub async fn open(target: &Target, tls: Arc<ClientConfig>) -> Result<Conn, ConnError> {
        let tcp = TcpStream::connect(target.addr)
            .await
            .map_err(ConnError::Connect)?;
        tcp.set_nodelay(true).map_err(ConnError::Connect)?;
        let stream = TlsConnector::from(tls)
            .connect(target.server_name.clone(), tcp)
            .await
            .map_err(|e| ConnError::Tls(e.to_string()))?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ConnError::Http(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            send,
            authority: target.authority.clone(),
        })
    }

    /// False once the server closed the connection.
    pub fn is_open(&self) -> bool {
        !self.send.is_closed()
    }

    pub async fn post(
        &mut self,
        path: &str,
        body: Bytes,
        bearer: Option<&str>,
    ) -> Result<(StatusCode, Bytes), ConnError> {
        let http = |e: &dyn std::fmt::Display| ConnError::Http(e.to_string());
        self.send.ready().await.map_err(|e| http(&e))?;
        let mut req = Request::post(path)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req.body(Full::new(body)).map_err(|e| http(&e))?;
        let resp = self.send.send_request(req).await.map_err(|e| http(&e))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| http(&e))?
            .to_bytes();
        Ok((status, bytes))
    }
}
