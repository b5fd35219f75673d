//! A webhook receiver for the alert tests and benchmark: HTTPS on loopback (a
//! self-signed certificate for 127.0.0.1), HTTP/1.1 keep-alive, every POST's signature
//! verified as docs/alerts.md tells receivers to, and deliveries deduplicated by their id.
//! It answers 200 to what verifies and 401 to what does not; `up` switches it off (the
//! connection is refused) and on again on the same port.

// Shared by the alert test and the benchmark, each of which uses only part of it.
#![allow(dead_code)]

use anyhow::Context;
use ironroot_alerts::webhook::{verify, DEFAULT_REPLAY_WINDOW};
use ironroot_alerts::Notice;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One verified delivery and when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub notice: Notice,
    pub at: Instant,
    /// False when its delivery id had been received before (a retry).
    pub first: bool,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub rx: mpsc::UnboundedReceiver<Received>,
    task: Option<tokio::task::JoinHandle<()>>,
    shared: Arc<Shared>,
}

struct Shared {
    secret: Vec<u8>,
    seen: Mutex<HashSet<String>>,
    tx: mpsc::UnboundedSender<Received>,
    tls: tokio_rustls::TlsAcceptor,
}

impl Receiver {
    pub async fn start(secret: &[u8]) -> anyhow::Result<Receiver> {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])?;
        let ca_pem = cert.cert.pem();
        let id = ironroot_tls::Identity::from_pem(
            ca_pem.as_bytes(),
            cert.key_pair.serialize_pem().as_bytes(),
        )?;
        let tls = ironroot_tls::open_server_config(id)?;
        let mut tls = (*tls).clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            secret: secret.to_vec(),
            seen: Mutex::new(HashSet::new()),
            tx,
            tls: tokio_rustls::TlsAcceptor::from(Arc::new(tls)),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut r = Receiver {
            addr,
            ca_pem,
            rx,
            task: None,
            shared,
        };
        r.task = Some(tokio::spawn(serve(listener, r.shared.clone())));
        Ok(r)
    }

    pub fn url(&self) -> String {
        format!("https://{}/alerts", self.addr)
    }

    /// Stops accepting (connections are refused) or starts again on the same port.
    pub async fn up(&mut self, up: bool) -> anyhow::Result<()> {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        if up {
            let listener = TcpListener::bind(self.addr)
                .await
                .context("rebinding the receiver")?;
            self.task = Some(tokio::spawn(serve(listener, self.shared.clone())));
        }
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = tokio::task::JoinSet::new();
    while let Ok((tcp, _)) = listener.accept().await {
        let shared = shared.clone();
        // Connections die with the listener's task (JoinSet aborts them when dropped).
        conns.spawn(async move {
            if let Ok(tls) = shared.tls.accept(tcp).await {
                let _ = connection(tls, &shared).await;
            }
        });
    }
}

async fn connection<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
    shared: &Shared,
) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut signature = String::new();
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse()?,
                    "x-ironroot-signature" => signature = v.trim().to_owned(),
                    _ => {}
                }
            }
        }
        anyhow::ensure!(length <= 1 << 20, "body too large");
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        let now = ironroot_timestamp::now_unix();
        let ok = verify(
            &shared.secret,
            &signature,
            &body,
            now,
            DEFAULT_REPLAY_WINDOW,
        )
        .is_ok();
        let status = if ok {
            let notice: Notice = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|mut v| {
                    v.as_object_mut()?.remove("version");
                    serde_json::from_value(v).ok()
                })
                .context("an unreadable body")?;
            let first = shared
                .seen
                .lock()
                .map(|mut s| s.insert(notice.delivery_id.clone()))
                .unwrap_or(false);
            let _ = shared.tx.send(Received {
                notice,
                at: Instant::now(),
                first,
            });
            "200 OK"
        } else {
            "401 Unauthorized"
        };
        let res = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        stream.get_mut().write_all(res.as_bytes()).await?;
        stream.get_mut().flush().await?;
    }
}
