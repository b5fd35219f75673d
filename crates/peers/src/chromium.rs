//! Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol, for
//! the dashboard's real-browser tests: open a page, evaluate JavaScript and read what it
//! rendered, watch the page's network requests, take screenshots.
//!
//! The protocol client is written here, over `tokio-tungstenite` (WebSocket only, no TLS
//! features: the DevTools endpoint is plain `ws://` on loopback), rather than taken from a
//! CDP crate: `chromiumoxide` brings a generated binding of the whole protocol (minutes of
//! compilation on a small machine) and its own WebSocket and TLS features, and the tests
//! need six commands. Commands and events are untyped JSON, as the protocol documents
//! them (<https://chromedevtools.github.io/devtools-protocol/>).
//!
//! Test support only: it starts a browser that ignores certificate errors when asked
//! ([`Chromium::ignore_certificate_errors`]), which nothing but a test may do.

use anyhow::{anyhow, bail, Context};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Reply = Result<Value, String>;

/// The program Debian's `chromium` package installs.
const PROGRAM: &str = "chromium";

/// One DevTools event, as received.
#[derive(Debug, Clone)]
pub struct Event {
    /// The flattened session it belongs to; `None` for the browser's own.
    pub session: Option<String>,
    pub method: String,
    pub params: Value,
}

/// The WebSocket connection: commands by id, answers routed back, events kept in order.
struct Connection {
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    events: Arc<Mutex<Vec<Event>>>,
    next_id: AtomicU64,
    reader: tokio::task::JoinHandle<()>,
}

impl Connection {
    async fn open(url: &str) -> anyhow::Result<Connection> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("connecting to the DevTools endpoint {url}"))?;
        let (sink, mut stream) = socket.split();
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>> = Arc::default();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (p, e) = (pending.clone(), events.clone());
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(text) = msg {
                    if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                        dispatch(v, &p, &e);
                    }
                }
            }
            // The browser went away: fail every command still waiting.
            lock(&p).clear();
        });
        Ok(Connection {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            events,
            next_id: AtomicU64::new(1),
            reader,
        })
    }

    /// Sends one command (to a page's session, or to the browser) and waits for its answer.
    async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        self.sink
            .lock()
            .await
            .send(Message::text(msg.to_string()))
            .await
            .with_context(|| format!("sending {method}"))?;
        let reply = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .with_context(|| format!("{method}: no answer within 30 s"))?
            .map_err(|_| anyhow!("{method}: the browser closed the connection"))?;
        reply.map_err(|e| anyhow!("{method}: {e}"))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Routes one message: an answer to its waiting command, an event to the log.
fn dispatch(
    v: Value,
    pending: &Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    events: &Mutex<Vec<Event>>,
) {
    if let Some(id) = v.get("id").and_then(Value::as_u64) {
        if let Some(tx) = lock(pending).remove(&id) {
            let reply = match v.get("error") {
                Some(e) => Err(e.to_string()),
                None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
            };
            let _ = tx.send(reply);
        }
    } else if let Some(method) = v.get("method").and_then(Value::as_str) {
        lock(events).push(Event {
            session: v
                .get("sessionId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            method: method.to_owned(),
            params: v.get("params").cloned().unwrap_or(Value::Null),
        });
    }
}

/// A headless Chromium with its own temporary profile; killed (with every process it
/// started) when dropped.
pub struct Chromium {
    child: tokio::process::Child,
    conn: Arc<Connection>,
    profile: tempfile::TempDir,
}

impl Chromium {
    /// Whether `chromium` is on the `PATH` (`apt-get install chromium`).
    pub fn available() -> bool {
        find_program(PROGRAM).is_some()
    }

    /// Starts the browser and connects to its DevTools endpoint.
    pub async fn launch() -> anyhow::Result<Chromium> {
        let program = find_program(PROGRAM)
            .context("chromium is not installed (apt-get install chromium)")?;
        let profile = tempfile::Builder::new()
            .prefix("ironroot-chromium-")
            .tempdir()?;
        let log = std::fs::File::create(profile.path().join("stderr.log"))?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args([
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-sync",
            "--disable-component-update",
            "--disable-background-networking",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--window-size=1280,860",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("data").display()
        ));
        // Chromium's sandbox needs user namespaces it will not use as root.
        if rustix::process::geteuid().is_root() {
            cmd.arg("--no-sandbox");
        }
        cmd.arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            // Its own process group, so that dropping it kills the renderers too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("starting chromium")?;
        let url = match endpoint(&mut child, profile.path()).await {
            Ok(u) => u,
            Err(e) => {
                let _ = child.start_kill();
                let log =
                    std::fs::read_to_string(profile.path().join("stderr.log")).unwrap_or_default();
                return Err(e.context(format!("chromium's stderr: {}", tail(&log))));
            }
        };
        let conn = Arc::new(Connection::open(&url).await?);
        Ok(Chromium {
            child,
            conn,
            profile,
        })
    }

    /// Makes the browser accept any server certificate: for a test's service whose CA the
    /// browser does not know. Never outside tests.
    pub async fn ignore_certificate_errors(&self) -> anyhow::Result<()> {
        self.conn
            .call(
                None,
                "Security.setIgnoreCertificateErrors",
                json!({"ignore": true}),
            )
            .await?;
        Ok(())
    }

    /// A new tab with the Page, Runtime and Network domains enabled.
    pub async fn new_page(&self) -> anyhow::Result<Page> {
        let t = self
            .conn
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await?;
        let target = t["targetId"].as_str().context("no targetId")?.to_owned();
        let s = self
            .conn
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
            )
            .await?;
        let session = s["sessionId"].as_str().context("no sessionId")?.to_owned();
        let page = Page {
            conn: self.conn.clone(),
            session,
        };
        for domain in ["Page", "Runtime", "Network"] {
            page.call(&format!("{domain}.enable"), json!({})).await?;
        }
        Ok(page)
    }

    /// The browser's stderr so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.conn.reader.abort();
        if let Some(pid) = self
            .child
            .id()
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.start_kill();
    }
}

/// One tab, through its flattened DevTools session.
pub struct Page {
    conn: Arc<Connection>,
    session: String,
}

impl Page {
    /// Sends a command to this page.
    pub async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.conn.call(Some(&self.session), method, params).await
    }

    /// Navigates and waits until the document has loaded.
    pub async fn navigate(&self, url: &str) -> anyhow::Result<()> {
        let r = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(e) = r.get("errorText").and_then(Value::as_str) {
            bail!("navigating to {url}: {e}");
        }
        self.wait_until(
            "document.readyState === 'complete'",
            Duration::from_secs(20),
        )
        .await?;
        Ok(())
    }

    /// Evaluates `expression` in the page (promises awaited) and returns its value.
    pub async fn evaluate(&self, expression: &str) -> anyhow::Result<Value> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(e) = r.get("exceptionDetails") {
            bail!(
                "{expression}: {}",
                e["exception"]["description"]
                    .as_str()
                    .unwrap_or(&e.to_string())
            );
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Polls `expression` until it is truthy; returns its value, or fails after `within`
    /// naming the expression and its last value.
    pub async fn wait_until(&self, expression: &str, within: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let v = self.evaluate(expression).await?;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return Ok(v);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("still false after {within:?}: {expression} (last value {v})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        use base64::Engine as _;
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let b64 = r["data"].as_str().context("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD.decode(b64)?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// Every event of this page named `method` so far (e.g. `Network.requestWillBeSent`).
    pub fn events(&self, method: &str) -> Vec<Value> {
        lock(&self.conn.events)
            .iter()
            .filter(|e| e.session.as_deref() == Some(&self.session) && e.method == method)
            .map(|e| e.params.clone())
            .collect()
    }
}

/// Waits for the browser to write its DevTools port, and builds the endpoint's URL.
async fn endpoint(child: &mut tokio::process::Child, profile: &Path) -> anyhow::Result<String> {
    let file = profile.join("data").join("DevToolsActivePort");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        // Two lines: the port, then the browser endpoint's path.
        if let Ok(s) = std::fs::read_to_string(&file) {
            let mut lines = s.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Ok(format!("ws://127.0.0.1:{}{}", port.trim(), path.trim()));
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!("chromium exited at start ({status})");
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("chromium wrote no DevToolsActivePort within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(s.len());
    &s[start..]
}
