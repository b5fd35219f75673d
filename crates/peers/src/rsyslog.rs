//! A real rsyslog (Debian's `rsyslogd` with its GnuTLS stream driver) receiving syslog over
//! TCP with TLS on loopback, for the alert sink's tests: its configuration is written to
//! a private directory (imtcp with the `gtls` driver, the given server certificate,
//! octet-counted framing as rsyslog accepts by default) and every record it parses is
//! written by omfile with a template of the parsed RFC 5424 fields, one record a line:
//! `PRI|TIMESTAMP|HOSTNAME|APP-NAME|MSGID|STRUCTURED-DATA|MSG`.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon, stopped (and its directory left to its owner) when dropped.
pub struct Rsyslog {
    child: Child,
    /// The loopback port it accepts TLS on.
    pub port: u16,
    /// Where it writes what it parsed.
    pub out: PathBuf,
}

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const GTLS: &str = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so";

impl Rsyslog {
    /// Whether rsyslogd and its GnuTLS driver are installed (`rsyslog`, `rsyslog-gnutls`).
    pub fn available() -> bool {
        Path::new(RSYSLOGD).exists() && Path::new(GTLS).exists()
    }

    /// Starts rsyslogd in `dir` presenting `cert_pem`/`key_pem`, and waits until it listens.
    pub async fn start(dir: &Path, cert_pem: &str, key_pem: &str) -> anyhow::Result<Rsyslog> {
        if !Rsyslog::available() {
            bail!("rsyslogd with its GnuTLS driver is not installed (apt-get install rsyslog rsyslog-gnutls)");
        }
        std::fs::create_dir_all(dir)?;
        let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
        std::fs::write(&cert, cert_pem)?;
        std::fs::write(&key, key_pem)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let out = dir.join("parsed.log");
        let conf = dir.join("rsyslog.conf");
        std::fs::write(&conf, config(dir, &cert, &key, port, &out))?;
        let check = Command::new(RSYSLOGD)
            .args(["-N1", "-f"])
            .arg(&conf)
            .output()?;
        if !check.status.success() {
            bail!(
                "rsyslogd refused its configuration: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(
                dir.join("rsyslogd.err"),
            )?))
            .spawn()
            .context("starting rsyslogd")?;
        let mut r = Rsyslog { child, port, out };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline || r.child.try_wait()?.is_some() {
                let err = std::fs::read_to_string(dir.join("rsyslogd.err")).unwrap_or_default();
                bail!("rsyslogd did not listen on {port}: {err}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(r)
    }

    /// The parsed records so far, once at least `n` arrived (or an error after `within`).
    pub async fn records(&self, n: usize, within: Duration) -> anyhow::Result<Vec<String>> {
        let deadline = Instant::now() + within;
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= n {
                return Ok(lines);
            }
            if Instant::now() > deadline {
                bail!("rsyslog parsed {} records, not {n}: {lines:?}", lines.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(dir: &Path, cert: &Path, key: &Path, port: u16, out: &Path) -> String {
    format!(
        r#"global(
  workDirectory="{dir}"
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCertFile="{cert}"
  DefaultNetstreamDriverKeyFile="{key}"
)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="parsed" type="list") {{
  property(name="pri") constant(value="|")
  property(name="timereported" dateFormat="rfc3339") constant(value="|")
  property(name="hostname") constant(value="|")
  property(name="app-name") constant(value="|")
  property(name="msgid") constant(value="|")
  property(name="structured-data") constant(value="|")
  property(name="msg") constant(value="\n")
}}
ruleset(name="alerts") {{
  action(type="omfile" file="{out}" template="parsed")
}}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="alerts")
"#,
        dir = dir.display(),
        cert = cert.display(),
        key = key.display(),
        out = out.display(),
    )
}
