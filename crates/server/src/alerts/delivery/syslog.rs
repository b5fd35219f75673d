//! The syslog transport: TCP with TLS (RFC 5425), one record per RFC 6587 octet-counted
//! frame, RFC 5424 with structured data or CEF as MSG. The connection is kept open between
//! notices and re-made after any error. TLS trusts only the sink's CA; the receiver's
//! certificate must name `server_name` (or the address's host).
//!
//! A record is counted delivered once written and flushed: syslog over TCP has no
//! acknowledgement, so a receiver that dies holding it unread loses it (RELP would not).

use super::SendError;
use crate::alerts::sinks::{address_host, is_ip};
use crate::AppState;
use ironroot_alerts::syslog::{octet_frame, rfc5424, rfc5424_plain, Origin, DEFAULT_FACILITY};
use ironroot_alerts::{cef, notice_severity, Notice};
use ironroot_api::{SyslogFormat, SyslogSink};
use rustls_pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Syslog {
    address: String,
    server_name: ServerName<'static>,
    connector: TlsConnector,
    origin: Origin,
    format: SyslogFormat,
    conn: Option<TlsStream<TcpStream>>,
}

impl Syslog {
    pub(super) fn new(st: &AppState, spec: &SyslogSink) -> Result<Syslog, SendError> {
        let name = spec
            .server_name
            .clone()
            .unwrap_or_else(|| address_host(&spec.address).to_owned());
        let server_name =
            ServerName::try_from(name).map_err(|e| SendError::Config(e.to_string()))?;
        let roots = ironroot_tls::roots_from_pem(spec.ca_pem.as_bytes())
            .map_err(|e| SendError::Config(e.to_string()))?;
        let tls = ironroot_tls::client_config(roots, None)
            .map_err(|e| SendError::Config(e.to_string()))?;
        let hostname = spec.hostname.clone().unwrap_or_else(|| {
            st.config
                .tls_names
                .iter()
                .find(|n| !is_ip(n))
                .or(st.config.tls_names.first())
                .cloned()
                .unwrap_or_default()
        });
        Ok(Syslog {
            address: spec.address.clone(),
            server_name,
            connector: TlsConnector::from(Arc::new(tls)),
            origin: Origin {
                facility: spec.facility.unwrap_or(DEFAULT_FACILITY),
                hostname,
            },
            format: spec.format,
            conn: None,
        })
    }

    fn record(&self, n: &Notice) -> String {
        let now = crate::now();
        match self.format {
            SyslogFormat::Rfc5424 => rfc5424(n, &self.origin, now),
            SyslogFormat::Cef => rfc5424_plain(
                &self.origin,
                notice_severity(n),
                now,
                "cef",
                &cef::cef(n, env!("CARGO_PKG_VERSION")),
            ),
        }
    }

    async fn connect(&self) -> Result<TlsStream<TcpStream>, SendError> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.address))
            .await
            .map_err(|_| SendError::Transport(format!("connecting to {} timed out", self.address)))?
            .map_err(|e| SendError::Transport(format!("{}: {e}", self.address)))?;
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.connector.connect(self.server_name.clone(), tcp),
        )
        .await
        .map_err(|_| SendError::Transport("TLS handshake timed out".into()))?
        .map_err(|e| SendError::Transport(format!("TLS: {e}")))
    }

    pub(super) async fn send(&mut self, n: &Notice) -> Result<(), SendError> {
        let frame = octet_frame(&self.record(n));
        let kept = match self.conn.take() {
            Some(mut c) => still_open(&mut c).await.then_some(c),
            None => None,
        };
        let mut conn = match kept {
            Some(c) => c,
            None => self.connect().await?,
        };
        let wrote = tokio::time::timeout(WRITE_TIMEOUT, async {
            conn.write_all(&frame).await?;
            conn.flush().await
        })
        .await;
        match wrote {
            Ok(Ok(())) => {
                self.conn = Some(conn);
                Ok(())
            }
            Ok(Err(e)) => Err(SendError::Transport(e.to_string())),
            Err(_) => Err(SendError::Transport("writing timed out".into())),
        }
    }
}

/// Whether a kept connection is still usable. A receiver never sends anything, so a read
/// that completes at once is its close (or an error): writing there would vanish into
/// the kernel's buffer and count as delivered.
async fn still_open(conn: &mut TlsStream<TcpStream>) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    // `timeout` polls the read once before looking at its (zero) deadline.
    tokio::time::timeout(Duration::ZERO, conn.read(&mut buf))
        .await
        .is_err()
}
