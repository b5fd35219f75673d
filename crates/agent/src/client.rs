//! HTTPS to the service: the service CA is the only trust anchor, and after enrollment
//! the agent presents its client certificate.

use crate::AgentError;
use ironroot_api::ApiError;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    base: String,
}

impl ServiceClient {
    pub fn new(
        base: &str,
        ca_pem: &[u8],
        identity: Option<(&str, &str)>,
    ) -> Result<Self, AgentError> {
        let cfg = Self::tls(ca_pem, identity)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(cfg)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AgentError::Config(e.to_string()))?;
        Ok(ServiceClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn tls(
        ca_pem: &[u8],
        identity: Option<(&str, &str)>,
    ) -> Result<rustls::ClientConfig, AgentError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca_pem) {
            let c = c.map_err(|e| AgentError::Config(format!("service CA: {e}")))?;
            roots
                .add(c)
                .map_err(|e| AgentError::Config(format!("service CA: {e}")))?;
        }
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| AgentError::Config(e.to_string()))?
            .with_root_certificates(roots);
        match identity {
            None => Ok(b.with_no_client_auth()),
            Some((cert, key)) => {
                let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes())
                    .map_err(|e| AgentError::Config(e.to_string()))?];
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                    .map_err(|e| AgentError::Config(e.to_string()))?;
                b.with_client_auth_cert(chain, key)
                    .map_err(|e| AgentError::Config(e.to_string()))
            }
        }
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, AgentError> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, AgentError> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn send<R: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<R, AgentError> {
        let resp = req
            .send()
            .await
            .map_err(|e| AgentError::Transport(error_chain(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| AgentError::Transport(error_chain(&e)))?;
        if status.is_success() {
            serde_json::from_slice(&bytes)
                .map_err(|e| AgentError::Transport(format!("unexpected response: {e}")))
        } else {
            Err(match serde_json::from_slice::<ApiError>(&bytes) {
                Ok(e) => AgentError::Refused(e),
                Err(_) => AgentError::Transport(format!("HTTP {status}")),
            })
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
