//! Reaching the service as an administrator: where it is and the token ([`Conn`],
//! [`MaybeConn`] for commands that need it only sometimes), and [`AdminClient`], the
//! HTTPS client every administrator command and the demo use.

use anyhow::{bail, Context};
use ironroot_api::{ApiError, HostSummary};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::sync::Arc;

/// How to reach the service as an administrator.
#[derive(clap::Args, Clone)]
pub struct Conn {
    /// The service's URL.
    #[arg(
        long,
        env = "IRONROOT_SERVER",
        default_value = "https://127.0.0.1:8443"
    )]
    pub server: String,
    /// PEM file with the service's CA certificate (ca.pem in the service's data directory).
    #[arg(long, env = "IRONROOT_CA")]
    pub ca: PathBuf,
    /// File holding the administrator token (admin.token in the service's data directory).
    #[arg(long, env = "IRONROOT_TOKEN_FILE")]
    pub token_file: PathBuf,
}

/// How to reach the service, for commands that need it only sometimes (`image encrypt`
/// with a `provider:ironroot` key, `scan --submit`, `rescan --service`).
#[derive(clap::Args, Clone, Debug)]
pub struct MaybeConn {
    /// The service's URL (when the command reaches the service).
    #[arg(
        long,
        env = "IRONROOT_SERVER",
        default_value = "https://127.0.0.1:8443"
    )]
    pub server: String,
    /// PEM file with the service's CA certificate (ca.pem in its data directory).
    #[arg(long, env = "IRONROOT_CA")]
    pub ca: Option<PathBuf>,
    /// File holding the administrator token (admin.token in its data directory).
    #[arg(long, env = "IRONROOT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

impl MaybeConn {
    /// The connection, or an error saying that `what` needs --ca and --token-file.
    pub fn require(&self, what: &str) -> anyhow::Result<Conn> {
        let (Some(ca), Some(token_file)) = (&self.ca, &self.token_file) else {
            bail!(
                "{what} needs the service: give --ca and --token-file \
                 (or IRONROOT_CA and IRONROOT_TOKEN_FILE)"
            );
        };
        Ok(Conn {
            server: self.server.clone(),
            ca: ca.clone(),
            token_file: token_file.clone(),
        })
    }
}

pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    pub fn new(c: &Conn) -> anyhow::Result<Self> {
        let ca = std::fs::read(&c.ca).with_context(|| format!("reading {}", c.ca.display()))?;
        let token = std::fs::read_to_string(&c.token_file)
            .with_context(|| format!("reading {}", c.token_file.display()))?;
        Self::from_parts(&c.server, &ca, token.trim())
    }

    pub fn from_parts(server: &str, ca_pem: &[u8], token: &str) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            roots
                .add(cert.context("service CA")?)
                .context("service CA")?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(AdminClient {
            http,
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).context("unexpected response from the service");
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => bail!("{} ({:?})", e.message, e.kind),
            Err(_) => bail!("the service answered HTTP {status}"),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn put<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send(self.http.put(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// Opens the server-sent event stream at `path` (e.g. `/v1/events`); with `resume`,
    /// the service first replays the events after that id (`Last-Event-ID`).
    pub async fn event_stream(
        &self,
        path: &str,
        resume: Option<i64>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(std::time::Duration::from_secs(24 * 3600));
        if let Some(id) = resume {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        if !resp.status().is_success() {
            bail!("the service answered HTTP {}", resp.status());
        }
        Ok(resp)
    }

    pub async fn hosts(&self) -> anyhow::Result<Vec<HostSummary>> {
        self.get("/v1/hosts").await
    }
}
