//! ocicrypt's gRPC transport: `keyprovider.KeyProviderService` with `WrapKey` and
//! `UnWrapKey`, each taking and returning one message whose `bytes` field 1 carries the
//! same JSON as the command transport. Served on a unix socket (mode 0600: whoever can
//! connect can ask for keys this node may receive).
//!
//! The service is written by hand over tonic's `Grpc` (two unary methods) instead of
//! generated, so the build needs no `protoc`. The wire shape is ocicrypt's
//! `keyprovider.proto`:
//!
//! ```proto
//! package keyprovider;
//! message keyProviderKeyWrapProtocolInput  { bytes KeyProviderKeyWrapProtocolInput = 1; }
//! message keyProviderKeyWrapProtocolOutput { bytes KeyProviderKeyWrapProtocolOutput = 1; }
//! service KeyProviderService {
//!   rpc WrapKey(keyProviderKeyWrapProtocolInput) returns (keyProviderKeyWrapProtocolOutput);
//!   rpc UnWrapKey(keyProviderKeyWrapProtocolInput) returns (keyProviderKeyWrapProtocolOutput);
//! }
//! ```

use crate::{Handler, ProviderError};
use ironroot_ocicrypt::keyprovider::MAX_MESSAGE_LEN;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};
use tonic::codegen::{http, BoxFuture, Service, StdError};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

pub const SERVICE_NAME: &str = "keyprovider.KeyProviderService";
const WRAP_PATH: &str = "/keyprovider.KeyProviderService/WrapKey";
const UNWRAP_PATH: &str = "/keyprovider.KeyProviderService/UnWrapKey";

/// Both protocol messages: one `bytes` field, number 1.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtocolMessage {
    #[prost(bytes = "vec", tag = "1")]
    pub json: Vec<u8>,
}

impl Drop for ProtocolMessage {
    fn drop(&mut self) {
        // Unwrap replies carry a layer key.
        zeroize::Zeroize::zeroize(&mut self.json);
    }
}

/// The tonic service; mount it with [`serve`] or any tonic server.
#[derive(Clone)]
pub struct KeyProviderService {
    handler: Handler,
}

impl KeyProviderService {
    pub fn new(handler: Handler) -> Self {
        KeyProviderService { handler }
    }
}

impl tonic::server::NamedService for KeyProviderService {
    const NAME: &'static str = SERVICE_NAME;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Wrap,
    Unwrap,
}

struct Unary {
    handler: Handler,
    method: Method,
}

impl tonic::server::UnaryService<ProtocolMessage> for Unary {
    type Response = ProtocolMessage;
    type Future = BoxFuture<Response<ProtocolMessage>, Status>;

    fn call(&mut self, req: Request<ProtocolMessage>) -> Self::Future {
        let (handler, method) = (self.handler.clone(), self.method);
        Box::pin(async move {
            let json = &req.get_ref().json;
            // WrapKey must carry a wrap, UnWrapKey an unwrap.
            let op_ok = match serde_json::from_slice::<serde_json::Value>(json) {
                Ok(v) => {
                    let want = if method == Method::Wrap {
                        "keywrap"
                    } else {
                        "keyunwrap"
                    };
                    v.get("op").and_then(|o| o.as_str()) == Some(want)
                }
                Err(_) => true, // the handler reports the parse error
            };
            if !op_ok {
                return Err(Status::invalid_argument(
                    "the request's op does not match the method called",
                ));
            }
            match handler.handle(json).await {
                Ok(out) => Ok(Response::new(ProtocolMessage { json: out.to_vec() })),
                Err(e) => Err(status_of(&e)),
            }
        })
    }
}

/// Maps a provider error to a gRPC status whose message is the error's text.
pub fn status_of(e: &ProviderError) -> Status {
    let msg = e.to_string();
    match e {
        ProviderError::Request(_) | ProviderError::Packet(_) | ProviderError::KeySpec(_) => {
            Status::invalid_argument(msg)
        }
        ProviderError::NotConfigured(_) => Status::failed_precondition(msg),
        ProviderError::Refused(_) => Status::permission_denied(msg),
        ProviderError::Unreachable(_) => Status::unavailable(msg),
        ProviderError::Internal(_) => Status::internal(msg),
    }
}

fn error_of(s: &Status) -> ProviderError {
    let msg = s.message().to_owned();
    match s.code() {
        tonic::Code::InvalidArgument => ProviderError::Request(msg),
        tonic::Code::FailedPrecondition => ProviderError::NotConfigured(msg),
        tonic::Code::PermissionDenied => ProviderError::Refused(msg),
        tonic::Code::Unavailable => ProviderError::Unreachable(msg),
        _ => ProviderError::Internal(msg),
    }
}

impl<B> Service<http::Request<B>> for KeyProviderService
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = match req.uri().path() {
            WRAP_PATH => Method::Wrap,
            UNWRAP_PATH => Method::Unwrap,
            _ => {
                return Box::pin(async move {
                    Ok(Status::unimplemented(
                        "keyprovider.KeyProviderService has WrapKey and UnWrapKey",
                    )
                    .into_http())
                })
            }
        };
        let svc = Unary {
            handler: self.handler.clone(),
            method,
        };
        Box::pin(async move {
            let mut grpc =
                tonic::server::Grpc::new(ProstCodec::<ProtocolMessage, ProtocolMessage>::default())
                    .apply_max_message_size_config(Some(MAX_MESSAGE_LEN), Some(MAX_MESSAGE_LEN));
            Ok(grpc.unary(svc, req).await)
        })
    }
}

/// Serves `handler` on a unix socket at `path` until `shutdown` resolves. A stale socket
/// file is replaced; any other file at `path` is an error. The socket is mode 0600.
pub async fn serve(
    path: &Path,
    handler: Handler,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ProviderError> {
    let listener = bind(path)?;
    tracing::info!(socket = %path.display(), provider = handler.name(), "keyprovider gRPC service listening");
    serve_listener(listener, handler, shutdown).await
}

/// Serves `handler` on a socket already bound with [`bind`].
pub async fn serve_listener(
    listener: tokio::net::UnixListener,
    handler: Handler,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ProviderError> {
    tonic::transport::Server::builder()
        .add_service(KeyProviderService::new(handler))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::UnixListenerStream::new(listener),
            shutdown,
        )
        .await
        .map_err(|e| ProviderError::Internal(format!("keyprovider gRPC service: {e}")))
}

/// Binds the socket (replacing a stale one) with mode 0600 from the start: see
/// [`crate::socket`].
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener, ProviderError> {
    crate::socket::bind(path)
}

/// A client of a keyprovider gRPC service on a unix socket (the command transport uses
/// it to reach the node's agent).
#[derive(Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
        }
    }

    /// Sends one request's JSON to `WrapKey` or `UnWrapKey` (chosen by `unwrap`).
    pub async fn call(
        &self,
        json: Vec<u8>,
        unwrap: bool,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, ProviderError> {
        let socket = self.socket.clone();
        let unreachable = |e: String| {
            ProviderError::Unreachable(format!(
                "cannot reach the ironroot agent's key provider at {}: {e} (is the agent running with --keyprovider-socket?)",
                self.socket.display()
            ))
        };
        let channel = tonic::transport::Endpoint::from_static("http://keyprovider.socket")
            .connect_timeout(std::time::Duration::from_secs(5))
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let socket = socket.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(socket).await?,
                    ))
                }
            }))
            .await
            .map_err(|e| unreachable(ironroot_client::error_chain(&e)))?;
        let mut grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_LEN)
            .max_encoding_message_size(MAX_MESSAGE_LEN);
        grpc.ready()
            .await
            .map_err(|e| unreachable(ironroot_client::error_chain(&e)))?;
        let path = if unwrap { UNWRAP_PATH } else { WRAP_PATH };
        let reply = grpc
            .unary(
                Request::new(ProtocolMessage { json }),
                http::uri::PathAndQuery::from_static(path),
                ProstCodec::<ProtocolMessage, ProtocolMessage>::default(),
            )
            .await
            .map_err(|s| {
                // A status tonic made from a failure of the connection itself (the agent
                // stopped during the call) carries that failure as its source; one the
                // agent answered with does not. The first is the agent being away.
                match (s.code(), std::error::Error::source(&s)) {
                    (tonic::Code::Unknown | tonic::Code::Unavailable, Some(cause)) => {
                        unreachable(ironroot_client::error_chain(cause))
                    }
                    _ => error_of(&s),
                }
            })?;
        Ok(zeroize::Zeroizing::new(std::mem::take(
            &mut reply.into_inner().json,
        )))
    }
}
