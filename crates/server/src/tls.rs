//! TLS termination with rustls and the accept loop. Client certificates are optional
//! at the TLS layer (enrollment happens before an agent has one); handlers that need an
//! enrolled agent require the [`PeerIdentity`] this layer attaches to every request.

use crate::pki::{client_id_from_cert, ClientId, ServicePki};
use axum::response::IntoResponse;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use ironroot_tls::ServerConfig;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The enrolled host a request came from, when it presented a client certificate
/// issued by the service CA (still to be checked against the host's current serial).
#[derive(Debug, Clone)]
pub struct PeerIdentity(pub Option<ClientId>);

/// The TCP peer's address (for per-address rate limits).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The listener's TLS configuration (built by `ironroot-tls`): the service certificate,
/// and client certificates of the service CA asked for but not required.
pub fn server_config(pki: &ServicePki) -> Result<Arc<ServerConfig>, String> {
    let identity = ironroot_tls::Identity::from_pem(
        pki.server_cert_pem.as_bytes(),
        pki.server_key_pem.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    ironroot_tls::server_config(pki.ca_pem.as_bytes(), identity).map_err(|e| e.to_string())
}

/// How many connections the service holds, and for how long a quiet one is kept.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_address: usize,
    pub header_read: Duration,
    pub idle: Duration,
}

/// File descriptors kept back from connections: the database pool, the data files,
/// the listener, logs.
const RESERVED_FDS: u64 = 128;
/// How long any request but the event stream may take, body and answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl ConnectionLimits {
    /// The configured limits, with the total kept below the file-descriptor limit
    /// (raised to its hard limit first): an exhausted descriptor table would stop the
    /// listener from accepting anyone, agents included.
    pub fn from_config(c: &crate::ServerConfig) -> ConnectionLimits {
        let fds = raise_fd_limit();
        let room = usize::try_from(fds.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
        if room < c.max_connections {
            tracing::warn!(
                fd_limit = fds,
                connections = room,
                configured = c.max_connections,
                "the file-descriptor limit allows fewer connections than configured"
            );
        }
        ConnectionLimits {
            total: c.max_connections.min(room).max(1),
            per_address: c.max_connections_per_address.max(1),
            header_read: Duration::from_secs(c.header_read_timeout_secs.max(1)),
            idle: Duration::from_secs(c.idle_timeout_secs.max(1)),
        }
    }
}

/// Raises the soft limit on open files to the hard limit and returns what it now is.
fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, lim) {
            tracing::warn!(error = %e, "cannot raise the file-descriptor limit");
            return getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        }
    }
    lim.current.unwrap_or(u64::MAX)
}

/// Open connections, in all and per client address. A slot is taken before a task is
/// spawned for the connection and given back when the connection ends.
struct Slots {
    total: Arc<tokio::sync::Semaphore>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    max_per_address: usize,
}

struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
    _total: tokio::sync::OwnedSemaphorePermit,
}

impl Slots {
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let total = self.total.clone().try_acquire_owned().ok()?;
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_address {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            ip,
            _total: total,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self
            .slots
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Requests in flight on one connection and when the last one ended, for the idle
/// timeout (a connection in a long request, such as an event stream, is not idle).
#[derive(Default)]
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Option<tokio::time::Instant>>,
}

impl Activity {
    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(tokio::time::Instant::now());
    }

    fn idle_since(&self) -> Option<tokio::time::Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct InFlightGuard(Arc<Activity>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` over TLS on `listener` until the task is dropped. Each connection is a
/// task of this one's [`tokio::task::JoinSet`], so stopping the service also ends the
/// connections it opened: a client with a kept-alive connection is never served by a
/// stopped service's state (whose writers are gone) after a restart on the same port.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    app: Router,
    limits: ConnectionLimits,
) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Slots {
        total: Arc::new(tokio::sync::Semaphore::new(limits.total)),
        per_address: Mutex::new(HashMap::new()),
        max_per_address: limits.per_address,
    });
    let mut refused: u64 = 0;
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // The slot is taken here, before any task or buffer exists for the connection.
        let Some(slot) = slots.take(peer.ip()) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, "connection refused: too many open connections");
            }
            drop(tcp);
            continue;
        };
        // Finished connections leave the set here, so it holds only open ones.
        while connections.try_join_next().is_some() {}
        let acceptor = acceptor.clone();
        let app = app.clone();
        let limits = limits.clone();
        connections.spawn(async move {
            let _slot = slot;
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
            let stream = match handshake {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let identity = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| client_id_from_cert(c.as_ref()));
            // Who is calling goes into each request's extensions (not a layer per
            // connection, which would rebuild the router for every connection).
            let identity = PeerIdentity(identity);
            let activity = Arc::new(Activity::default());
            activity.touch();
            let seen = activity.clone();
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(identity.clone());
                    req.extensions_mut().insert(PeerAddr(peer));
                    seen.in_flight.fetch_add(1, Ordering::AcqRel);
                    let guard = InFlightGuard(seen.clone());
                    // Every request but the event stream ends within a bound, however
                    // slowly its body arrives.
                    let bounded = req.uri().path() != "/v1/events";
                    let call = app.clone().oneshot(req.map(axum::body::Body::new));
                    async move {
                        let res = if bounded {
                            match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
                                Ok(r) => r,
                                Err(_) => Ok(crate::error::ServiceError::BadRequest(
                                    "the request took too long to arrive".into(),
                                )
                                .into_response()),
                            }
                        } else {
                            call.await
                        };
                        drop(guard);
                        res
                    }
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .max_buf_size(64 * 1024);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(64)
                .max_header_list_size(64 * 1024)
                .keep_alive_interval(Some(limits.idle))
                .keep_alive_timeout(limits.header_read);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let mut shutting_down = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = tokio::time::sleep(limits.header_read) => {
                        if shutting_down {
                            return;
                        }
                        let idle = activity.idle_since().is_some_and(|t| t.elapsed() >= limits.idle);
                        if idle {
                            tracing::debug!(%peer, "closing an idle connection");
                            conn.as_mut().graceful_shutdown();
                            shutting_down = true;
                        }
                    }
                }
            }
        });
    }
}
