//! The node's half of the ocicrypt key provider: `UnWrapKey` on a unix socket, answered by
//! releasing the layer's key from the broker to this node's TPM (a fresh attestation and a
//! certified binding key every time the key is not cached) and opening the packet.
//!
//! skopeo and podman ask once per layer, several at a time: requests for the same key
//! wait for one release, and a released key is kept in memory for a short time (30 s by
//! default) so an image's layers cost one release, not one per layer; a refusal answers
//! the rest of the pull for 2 s. Only the agent process holds a key, zeroized when dropped.

use crate::run::Session;
use crate::AgentError;
use ironroot_keyprovider::{open_packet, BoxFuture, Handler, Packet, ProviderError, Unwrapper};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;
use zeroize::Zeroizing;

/// How long a released key is reused for further layers.
pub const DEFAULT_KEY_CACHE: Duration = Duration::from_secs(30);
/// How long a refusal answers further layers of the same pull (skopeo asks layer by layer,
/// and goes on after one fails): one decision and one log entry per pull, while a node
/// that has just become trusted waits at most this long.
pub const DEFAULT_REFUSAL_CACHE: Duration = Duration::from_secs(2);

type Material = Arc<Zeroizing<Vec<u8>>>;

/// When a release finished, and how: requests that were already waiting share it.
type Outcome = (Instant, Result<Material, ProviderError>);

pub struct NodeUnwrapper {
    session: Arc<RwLock<Session>>,
    ttl: Duration,
    refusal_ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Material)>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Outcome>>>>>,
    releases: std::sync::atomic::AtomicU64,
}

impl NodeUnwrapper {
    pub fn new(
        session: Arc<RwLock<Session>>,
        ttl: Duration,
        refusal_ttl: Duration,
    ) -> NodeUnwrapper {
        NodeUnwrapper {
            session,
            ttl,
            refusal_ttl,
            cache: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            releases: Default::default(),
        }
    }

    /// How many releases this unwrapper has asked the broker for.
    pub fn releases(&self) -> u64 {
        self.releases.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cached(&self, key_id: &str) -> Option<Material> {
        let mut c = lock(&self.cache);
        c.retain(|_, (at, _)| at.elapsed() < self.ttl);
        c.get(key_id).map(|(_, m)| m.clone())
    }

    async fn material(&self, packet: &Packet) -> Result<Material, ProviderError> {
        if let Some(m) = self.cached(&packet.key_id) {
            return Ok(m);
        }
        let asked = Instant::now();
        let flight = lock(&self.flights)
            .entry(packet.key_id.clone())
            .or_default()
            .clone();
        let mut last = flight.lock().await;
        // A release that finished after this request was made answers it too (skopeo asks
        // for every layer at once): one decision, one log entry, per image pull.
        if let Some((at, outcome)) = last.as_ref() {
            if *at >= asked || (outcome.is_err() && at.elapsed() < self.refusal_ttl) {
                return outcome.clone();
            }
        }
        let outcome = self.release(packet).await;
        if let Ok(m) = &outcome {
            lock(&self.cache).insert(packet.key_id.clone(), (Instant::now(), m.clone()));
        }
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }

    async fn release(&self, packet: &Packet) -> Result<Material, ProviderError> {
        self.releases
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let released = self
            .session
            .read()
            .await
            .release_key(&packet.key_id)
            .await
            .map_err(|e| refusal(&packet.key_name, e))?;
        if released.key_id != packet.key_id {
            return Err(ProviderError::Internal(
                "the broker released another key than asked".into(),
            ));
        }
        tracing::info!(key = %packet.key_name, report = %released.report_id, "image key released to this node");
        Ok(Arc::new(released.material))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn refusal(key: &str, e: AgentError) -> ProviderError {
    match e {
        AgentError::Refused(api) => match api.kind {
            ironroot_api::ErrorKind::NotFound => ProviderError::Refused(format!(
                "the ironroot broker has no key {key} (deleted, or the image was encrypted for another broker)"
            )),
            ironroot_api::ErrorKind::Unavailable | ironroot_api::ErrorKind::RateLimited => {
                ProviderError::Unreachable(format!("the ironroot broker: {}", api.message))
            }
            _ => ProviderError::Refused(format!("the ironroot broker refused: {}", api.message)),
        },
        AgentError::Transport(t) => {
            ProviderError::Unreachable(format!("cannot reach the ironroot broker: {t}"))
        }
        other => ProviderError::Internal(format!("releasing key {key}: {other}")),
    }
}

impl Unwrapper for NodeUnwrapper {
    fn unwrap<'a>(
        &'a self,
        packet: &'a Packet,
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderError>> {
        Box::pin(async move {
            let material = self.material(packet).await?;
            open_packet(&material, packet)
        })
    }
}

/// Binds the keyprovider socket, so a bad path fails at start. The socket is 0600 from
/// the moment it appears at `socket` (bound in a private directory, then linked into
/// place), and a directory every user may write to is refused.
pub fn bind_keyprovider(socket: &Path) -> Result<tokio::net::UnixListener, AgentError> {
    ironroot_keyprovider::grpc::bind(socket).map_err(|e| AgentError::Config(e.to_string()))
}

/// Serves the keyprovider gRPC service for this node on `listener` until `shutdown`.
pub async fn serve_keyprovider(
    listener: tokio::net::UnixListener,
    unwrapper: Arc<NodeUnwrapper>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), AgentError> {
    let handler = Handler::new(ironroot_keyprovider::DEFAULT_NAME, None, Some(unwrapper));
    ironroot_keyprovider::grpc::serve_listener(listener, handler, shutdown)
        .await
        .map_err(|e| AgentError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn keyprovider_socket_never_exists_with_umask_permissions() {
        let tmp = tempfile::Builder::new()
            .prefix("ironroot-agent-kp-")
            .tempdir()
            .unwrap();
        let dir = tmp.path();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let socket = dir.join("keyprovider.sock");
        let _listener = bind_keyprovider(&socket).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&socket), 0o600);
        assert_eq!(
            mode(dir) & 0o002,
            0,
            "the socket's directory is world-writable"
        );
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            1,
            "staging left behind"
        );

        // A directory any user could write to is refused, so nobody can swap the socket.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = bind_keyprovider(&dir.join("other.sock")).unwrap_err();
        assert!(e.to_string().contains("writable by every user"), "{e}");
    }
}
