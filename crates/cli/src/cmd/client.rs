//! Reaching the service as an administrator: where it is and the token ([`Conn`],
//! [`MaybeConn`] for commands that need it only sometimes), and [`AdminClient`], the
//! HTTPS client every administrator command and the demo use.

use anyhow::{bail, Context};
use ironroot_api::{ApiError, HostSummary};
use ironroot_keyprovider::admin_url::{admin_base_url, PlainHttp};
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
    /// Allow a plain http:// --server, and only at a loopback address (127.0.0.1, [::1]):
    /// the administrator token then crosses loopback in clear. For development behind a
    /// local TLS terminator; never for a service reached over a network. Without it,
    /// only https:// is accepted.
    #[arg(long)]
    pub insecure_http_loopback: bool,
}

impl Conn {
    fn plain_http(&self) -> PlainHttp {
        PlainHttp::from_flag(self.insecure_http_loopback)
    }
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
    /// Allow a plain http:// --server, and only at a loopback address (127.0.0.1, [::1]):
    /// the administrator token then crosses loopback in clear. For development only.
    #[arg(long)]
    pub insecure_http_loopback: bool,
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
            insecure_http_loopback: self.insecure_http_loopback,
        })
    }
}

pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: zeroize::Zeroizing<String>,
}

impl AdminClient {
    /// The client `c` describes. The URL is checked before any file is read: the token
    /// goes only to https:// (or, with --insecure-http-loopback, to http:// on loopback).
    pub fn new(c: &Conn) -> anyhow::Result<Self> {
        let base = admin_base_url(&c.server, c.plain_http())?;
        let ca = std::fs::read(&c.ca).with_context(|| format!("reading {}", c.ca.display()))?;
        let token = zeroize::Zeroizing::new(
            std::fs::read_to_string(&c.token_file)
                .with_context(|| format!("reading {}", c.token_file.display()))?,
        );
        Self::build(base, &ca, token.trim())
    }

    /// A client of the service at `server`, which must be an https:// URL.
    pub fn from_parts(server: &str, ca_pem: &[u8], token: &str) -> anyhow::Result<Self> {
        Self::build(admin_base_url(server, PlainHttp::Refused)?, ca_pem, token)
    }

    fn build(base: String, ca_pem: &[u8], token: &str) -> anyhow::Result<Self> {
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
            // A redirect could lead the token to another scheme or host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(AdminClient {
            http,
            base,
            token: zeroize::Zeroizing::new(token.to_owned()),
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let resp = req
            .bearer_auth(self.token.as_str())
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).context("unexpected response from the service");
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            // The message may quote a hostname or other text a node chose.
            Ok(e) => bail!("{} ({:?})", crate::cmd::printable(&e.message), e.kind),
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
            .bearer_auth(self.token.as_str())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    fn conn(server: &str, insecure_http_loopback: bool) -> Conn {
        Conn {
            server: server.into(),
            ca: "/nonexistent/ca.pem".into(),
            token_file: "/nonexistent/admin.token".into(),
            insecure_http_loopback,
        }
    }

    fn refusal(c: &Conn) -> String {
        format!("{:#}", AdminClient::new(c).err().unwrap())
    }

    #[test]
    fn admin_client_refuses_http_url_that_would_send_the_token_in_clear() {
        let e = refusal(&conn("http://ironroot.example:8443", false));
        assert!(e.contains("only https://"), "{e}");
        // Even on loopback, plain HTTP needs the explicit flag.
        let e = refusal(&conn("http://127.0.0.1:8443", false));
        assert!(e.contains("only https://"), "{e}");
        let e = format!(
            "{:#}",
            AdminClient::from_parts("http://127.0.0.1:8443", b"", "t")
                .err()
                .unwrap()
        );
        assert!(e.contains("only https://"), "{e}");
    }

    #[test]
    fn insecure_http_loopback_flag_does_not_send_the_token_in_clear_to_a_remote_host() {
        for server in [
            "http://ironroot.example:8443",
            "http://localhost:8443",
            "http://192.0.2.7:8443",
        ] {
            let e = refusal(&conn(server, true));
            assert!(e.contains("loopback address"), "{server}: {e}");
        }
    }

    #[test]
    fn insecure_http_loopback_flag_allows_plain_http_to_loopback_only() {
        let dir = std::env::temp_dir().join(format!("ironroot-cli-conn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), b"").unwrap();
        std::fs::write(dir.join("admin.token"), b"secret\n").unwrap();
        let mut c = conn("http://127.0.0.1:8080/", true);
        c.ca = dir.join("ca.pem");
        c.token_file = dir.join("admin.token");
        let client = AdminClient::new(&c).unwrap();
        assert_eq!(client.base, "http://127.0.0.1:8080");
        c.server = "http://[::1]:8080".into();
        assert!(AdminClient::new(&c).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scan_submit_rescan_and_encrypt_connections_keep_the_https_rule() {
        // `scan --submit`, `rescan --service` and `image encrypt` reach the service
        // through MaybeConn: the flag must travel with it, and be off unless given.
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            conn: MaybeConn,
        }
        let base = [
            "t",
            "--server",
            "http://127.0.0.1:1",
            "--ca",
            "c",
            "--token-file",
            "t",
        ];
        let off = Cli::try_parse_from(base)
            .unwrap()
            .conn
            .require("x")
            .unwrap();
        assert!(!off.insecure_http_loopback);
        assert!(refusal(&off).contains("only https://"));
        let on = Cli::try_parse_from(base.iter().chain(&["--insecure-http-loopback"]))
            .unwrap()
            .conn
            .require("x")
            .unwrap();
        assert!(on.insecure_http_loopback);
        // The URL passes; what fails next is reading the (absent) CA file.
        assert!(refusal(&on).contains("reading c"), "{}", refusal(&on));
    }
}
