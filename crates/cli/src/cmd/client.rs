//! Reaching the service as an administrator: where it is and the token ([`Conn`],
//! [`MaybeConn`] for commands that need it only sometimes), and [`AdminClient`], the
//! `ironroot-client` every administrator command and the demo use, made from them.

use anyhow::{bail, Context};
use ironroot_client::{admin_base_url, PlainHttp};
use std::path::PathBuf;

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
    /// File holding your credential: an API token (`ironroot token create`), the ID token
    /// `ironroot login` saved, or the bootstrap token (admin.token in the service's data
    /// directory). What you may do is your role's (`ironroot token --help`).
    #[arg(long, env = "IRONROOT_TOKEN_FILE")]
    pub token_file: PathBuf,
    /// For a person bound in several organisations: the one to act in. (An API token
    /// acts in its own organisation whatever this says.)
    #[arg(long = "acting-org", env = "IRONROOT_ACTING_ORG", value_name = "ORG")]
    pub acting_org: Option<String>,
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
            acting_org: None,
            insecure_http_loopback: self.insecure_http_loopback,
        })
    }
}

/// The service's client (`ironroot-client`), made from the command's arguments. It
/// dereferences to [`ironroot_client::Client`]: a method per route, errors that show the
/// service's refusal as `message (Kind)`.
pub struct AdminClient(ironroot_client::Client);

impl AdminClient {
    /// The client `c` describes. The URL is checked before any file is read: the token
    /// goes only to https:// (or, with --insecure-http-loopback, to http:// on loopback).
    pub fn new(c: &Conn) -> anyhow::Result<Self> {
        admin_base_url(&c.server, c.plain_http())?;
        let ca = std::fs::read(&c.ca).with_context(|| format!("reading {}", c.ca.display()))?;
        let token = zeroize::Zeroizing::new(
            std::fs::read_to_string(&c.token_file)
                .with_context(|| format!("reading {}", c.token_file.display()))?,
        );
        let mut client =
            ironroot_client::Client::admin(&c.server, &ca, token.trim(), c.plain_http())?;
        if let Some(org) = &c.acting_org {
            client = client.in_organisation(org);
        }
        Ok(AdminClient(client))
    }

    /// A client of the service at `server`, which must be an https:// URL.
    pub fn from_parts(server: &str, ca_pem: &[u8], token: &str) -> anyhow::Result<Self> {
        let client = ironroot_client::Client::admin(server, ca_pem, token, PlainHttp::Refused)?;
        Ok(AdminClient(client))
    }
}

impl std::ops::Deref for AdminClient {
    type Target = ironroot_client::Client;

    fn deref(&self) -> &ironroot_client::Client {
        &self.0
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
            acting_org: None,
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
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().to_path_buf();
        std::fs::write(dir.join("ca.pem"), b"").unwrap();
        std::fs::write(dir.join("admin.token"), b"secret\n").unwrap();
        let mut c = conn("http://127.0.0.1:8080/", true);
        c.ca = dir.join("ca.pem");
        c.token_file = dir.join("admin.token");
        let client = AdminClient::new(&c).unwrap();
        assert_eq!(client.base(), "http://127.0.0.1:8080");
        c.server = "http://[::1]:8080".into();
        assert!(AdminClient::new(&c).is_ok());
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
