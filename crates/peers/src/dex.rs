//! Dex, a real OpenID Connect provider, on loopback (`scripts/dex.sh` builds it; docs/peers.md
//! "Dex"): memory storage, issuer `http://127.0.0.1:PORT/dex`, its password database with one
//! static user, and two static confidential clients (ironroot's and another application's).
//! The resource-owner password grant goes through the `local` connector with no approval
//! screen, so a test gets a real, RS256-signed ID token with one request; the device flow
//! (RFC 8628) is on too (a confidential client sends its secret with the device request).
//!
//! For tests only: the client secret and the user's password are fixed and public.

use crate::go_peer::GoPeer;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The static client.
pub const CLIENT_ID: &str = "ironroot";
pub const CLIENT_SECRET: &str = "ironroot-dex-test-secret";
/// A second static client: its ID tokens are real and Dex's, but meant for someone else
/// (their audience is this id), so a service registered as [`CLIENT_ID`] must refuse them.
pub const OTHER_CLIENT_ID: &str = "another-app";
pub const OTHER_CLIENT_SECRET: &str = "another-app-dex-test-secret";
/// The static user of the password database.
pub const USER_EMAIL: &str = "ada@example.com";
pub const USER_NAME: &str = "ada";
pub const USER_ID: &str = "08a8684b-db88-4b73-90a9-3cd1661f5466";
pub const USER_PASSWORD: &str = "password";
/// bcrypt (cost 10) of [`USER_PASSWORD`], the hash of Dex's own example configuration.
const USER_PASSWORD_HASH: &str = "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W";
/// How long Dex's ID tokens last.
pub const ID_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Built by `scripts/dex.sh`; a cold build downloads and compiles a few hundred modules.
const PEER: GoPeer = GoPeer {
    name: "Dex",
    script: "dex.sh",
    env: "IRONROOT_DEX_BIN",
    prebuilt: "a prebuilt binary",
    build_timeout: Duration::from_secs(3600),
};
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why Dex cannot run here, or `None` when it can: the binary is built (`IRONROOT_DEX_BIN`
/// or `scripts/dex.sh --check`), or Go is there to build it. For
/// `ironroot_testkit::skip_missing_peer`.
pub fn missing() -> Option<String> {
    PEER.missing(|bin| {
        (!bin.exists()).then(|| format!("IRONROOT_DEX_BIN names no file ({})", bin.display()))
    })
}

/// The dex binary: `$IRONROOT_DEX_BIN`, else what `scripts/dex.sh` prints (it builds it first
/// if needed).
pub async fn binary() -> anyhow::Result<PathBuf> {
    PEER.path().await
}

/// A running Dex; killed, and its directory removed, when dropped.
pub struct Dex {
    child: tokio::process::Child,
    issuer: String,
    // Declared last: removed after the process is gone.
    dir: tempfile::TempDir,
}

impl Dex {
    /// Starts Dex on a free loopback port and waits until it serves its discovery document.
    pub async fn start() -> anyhow::Result<Dex> {
        Dex::start_with(&[]).await
    }

    /// [`Dex::start`] with more redirect URIs for [`CLIENT_ID`] (a browser sign-in's
    /// return address, such as a service's `https://127.0.0.1:PORT/dashboard/`).
    pub async fn start_with(redirect_uris: &[String]) -> anyhow::Result<Dex> {
        let bin = binary().await?;
        let dir = tempfile::Builder::new().prefix("ironroot-dex-").tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let issuer = format!("http://127.0.0.1:{port}/dex");
        let config = dir.path().join("config.json");
        // Dex reads YAML, of which JSON is a subset.
        std::fs::write(
            &config,
            serde_json::to_vec_pretty(&config_json(&issuer, port, redirect_uris))?,
        )?;
        let log = std::fs::File::create(dir.path().join("dex.log"))?;
        let child = tokio::process::Command::new(&bin)
            .arg("serve")
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut dex = Dex { child, issuer, dir };
        let deadline = Instant::now() + READY_TIMEOUT;
        while !discovery_answers(port).await {
            if let Some(status) = dex.child.try_wait()? {
                bail!("dex exited ({status}) before serving:\n{}", dex.log());
            }
            if Instant::now() > deadline {
                bail!(
                    "dex did not serve its discovery document within 30 s:\n{}",
                    dex.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(dex)
    }

    /// `http://127.0.0.1:PORT/dex`
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where the password grant and the device flow's token exchange go.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// Dex's output so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dex.log")).unwrap_or_default()
    }
}

impl Drop for Dex {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn config_json(issuer: &str, port: u16, redirect_uris: &[String]) -> serde_json::Value {
    // The device flow returns to Dex's own callback, which Dex names by the issuer's path
    // alone (`/dex/device/callback`, not a URL) and checks against this list verbatim.
    let mut ours = vec![
        "/dex/device/callback".to_owned(),
        "http://127.0.0.1/callback".to_owned(),
    ];
    ours.extend_from_slice(redirect_uris);
    serde_json::json!({
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": format!("127.0.0.1:{port}")},
        "logger": {"level": "info", "format": "text"},
        "expiry": {"idTokens": format!("{}s", ID_TOKEN_LIFETIME.as_secs())},
        "oauth2": {"passwordConnector": "local", "skipApprovalScreen": true},
        "enablePasswordDB": true,
        "staticPasswords": [{
            "email": USER_EMAIL,
            "hash": USER_PASSWORD_HASH,
            "username": USER_NAME,
            "userID": USER_ID,
        }],
        "staticClients": [{
            "id": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "name": "ironroot tests",
            "redirectURIs": ours,
        }, {
            "id": OTHER_CLIENT_ID,
            "secret": OTHER_CLIENT_SECRET,
            "name": "another application",
            "redirectURIs": ["http://127.0.0.1/other-callback"],
        }],
    })
}

/// Whether `GET /dex/.well-known/openid-configuration` answers 200 (HTTP/1.0 over a bare
/// socket: this crate has no HTTP client, and one request needs none).
async fn discovery_answers(port: u16) -> bool {
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(
            format!(
                "GET /dex/.well-known/openid-configuration HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
        let mut head = [0u8; 16];
        let n = s.read(&mut head).await?;
        Ok::<bool, std::io::Error>(
            head[..n].starts_with(b"HTTP/1.0 200") || head[..n].starts_with(b"HTTP/1.1 200"),
        )
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}
