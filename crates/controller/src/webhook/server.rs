//! The webhook's HTTPS endpoint: `POST /mutate/pods` and `POST /validate/pods`, each
//! reading one AdmissionReview v1 of at most [`MAX_REVIEW`] bytes and answering one
//! with the request's uid. A body that is not an AdmissionReview v1 is answered 400 with
//! the reason (the API server logs it); decisions are always 200 with `allowed` set.

use super::Webhook;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use kube::core::admission::{AdmissionRequest, AdmissionReview, META_API_VERSION_V1, META_KIND};
use kube::core::DynamicObject;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The largest AdmissionReview read: a pod's is a few KiB.
pub const MAX_REVIEW: usize = 1 << 20;
/// Connections held at once (the API servers keep a few each).
const MAX_CONNECTIONS: usize = 512;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections are closed (gracefully) after this long, so idle ones cannot hold every
/// slot forever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Clone, Copy)]
enum Hook {
    Mutate,
    Validate,
}

/// The routes, for [`serve`] (and for benchmarks that call them without TLS).
pub fn router(hook: Arc<Webhook>) -> Router {
    Router::new()
        .route("/mutate/pods", post(mutate))
        .route("/validate/pods", post(validate))
        .with_state(hook)
}

async fn mutate(State(hook): State<Arc<Webhook>>, body: Body) -> Response {
    answer(&hook, body, Hook::Mutate).await
}

async fn validate(State(hook): State<Arc<Webhook>>, body: Body) -> Response {
    answer(&hook, body, Hook::Validate).await
}

fn bad_request(why: String) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

async fn answer(hook: &Webhook, body: Body, which: Hook) -> Response {
    let bytes =
        match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_REVIEW)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => {
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                "the AdmissionReview could not be read: at most {MAX_REVIEW} bytes are accepted"
            ),
                )
                    .into_response()
            }
            Err(_) => {
                return (
                    StatusCode::REQUEST_TIMEOUT,
                    "the AdmissionReview took too long to arrive",
                )
                    .into_response()
            }
        };
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("not an AdmissionReview: {e}")),
    };
    if review.types.api_version != META_API_VERSION_V1 || review.types.kind != META_KIND {
        return bad_request(format!(
            "expected kind {META_KIND} of {META_API_VERSION_V1}, got kind {:?} of {:?}",
            review.types.kind, review.types.api_version
        ));
    }
    let Ok(req): Result<AdmissionRequest<DynamicObject>, _> = review.try_into() else {
        return bad_request("the AdmissionReview has no request".into());
    };
    let mut res = match which {
        Hook::Mutate => hook.mutate(&req).await,
        Hook::Validate => hook.validate(&req).await,
    };
    if !res.allowed {
        tracing::info!(
            uid = %req.uid,
            namespace = ?req.namespace,
            name = %req.name,
            reason = %res.result.message,
            "admission refused"
        );
    }
    // kube-core writes the patch as an array of byte values; the API server's own form
    // (Go's []byte) is base64, a quarter the size.
    let patch = res.patch.take();
    let mut review = match serde_json::to_value(res.into_review()) {
        Ok(v) => v,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if let (Some(p), Some(r)) = (
        patch,
        review.get_mut("response").and_then(|r| r.as_object_mut()),
    ) {
        r.insert(
            "patch".into(),
            base64::engine::general_purpose::STANDARD.encode(p).into(),
        );
    }
    Json(review).into_response()
}

/// Serves the webhook over TLS on `listener` until the task is dropped. `tls` comes from
/// `ironroot_tls::server_config`.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, hook: Arc<Webhook>) {
    serve_router(listener, tls, router(hook)).await
}

/// [`serve`] with any routes: the webhook benchmark adds a baseline route beside the
/// webhook's, on the same listener, TLS and HTTP stack.
pub async fn serve_router(listener: TcpListener, tls: Arc<rustls::ServerConfig>, app: Router) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "webhook: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "webhook: connection refused, {MAX_CONNECTIONS} already open");
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "webhook: TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_buf_size(64 * 1024);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(64)
                .max_header_list_size(64 * 1024)
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .keep_alive_timeout(HEADER_READ_TIMEOUT);
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = tokio::time::sleep(CONNECTION_LIFETIME) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(HEADER_READ_TIMEOUT, conn).await;
                }
            }
        });
    }
}
