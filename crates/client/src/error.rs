//! The one decoder of the service's answers: a 2xx body becomes the route's response type,
//! anything else the [`ApiError`] the service sent (its stable `kind` and message), or,
//! when the body is not one, the bare status. Every caller (agent, key provider, CLI,
//! load generator, controller) switches on the same [`ClientError`].

use crate::url::AdminUrlError;
use ironroot_api::ApiError;
use serde::de::DeserializeOwned;

/// Why a call to the service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The service URL may not be used (see [`crate::url`]).
    #[error(transparent)]
    Url(#[from] AdminUrlError),
    /// The service CA could not be read or used as a trust anchor.
    #[error("the service CA: {0}")]
    Ca(ironroot_tls::TlsError),
    /// The client certificate or its key could not be used.
    #[error("the client certificate: {0}")]
    Identity(ironroot_tls::TlsError),
    /// A key or certificate signing request could not be made.
    #[error("cannot make a key and certificate request: {0}")]
    Csr(String),
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// The request or its answer did not get through (connect, TLS, timeout, reset).
    #[error("cannot reach {base}: {detail}")]
    Unreachable { base: String, detail: String },
    /// The service refused, saying why. The message may quote text a node chose (a
    /// hostname), so it is shown with control characters escaped.
    #[error("{} ({:?})", printable(&.error.message), .error.kind)]
    Api { status: HttpStatus, error: ApiError },
    /// The service (or something in front of it) answered an error without an
    /// [`ApiError`] body.
    #[error("the service answered HTTP {status}")]
    Status { status: HttpStatus },
    /// A 2xx answer that is not the route's response type.
    #[error("unexpected response from the service: {0}")]
    Decode(String),
    /// The answer is larger than the client accepts.
    #[error("the service's answer is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// One server-sent event is larger than the client accepts ([`crate::SseDecoder`]).
    #[error("an event of the service's event stream is larger than {limit} bytes")]
    EventTooLarge { limit: usize },
}

impl ClientError {
    /// The service's refusal, if it answered one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ClientError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status the service answered, if it answered.
    pub fn status(&self) -> Option<HttpStatus> {
        match self {
            ClientError::Api { status, .. } | ClientError::Status { status } => Some(*status),
            _ => None,
        }
    }
}

/// An HTTP status code, shown with its reason phrase (`502 Bad Gateway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpStatus(pub u16);

impl std::fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match reqwest::StatusCode::from_u16(self.0) {
            Ok(s) => write!(f, "{s}"),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// Decodes one answer of the service: `body` as `T` when `status` is 2xx, else the
/// service's [`ApiError`] (or the bare status when the body is not one).
pub fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, ClientError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|e| ClientError::Decode(e.to_string()));
    }
    let status = HttpStatus(status);
    match serde_json::from_slice::<ApiError>(body) {
        Ok(error) => Err(ClientError::Api { status, error }),
        Err(_) => Err(ClientError::Status { status }),
    }
}

/// `s` with every character a terminal would act on (controls, escapes, bidi marks)
/// escaped, and `\` doubled so that an escape cannot be forged.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let shown_as_is = |c: char| match c {
        '\\' => false,
        '"' | '\'' => true,
        // `escape_debug` leaves a character alone exactly when it is printable.
        c => c.escape_debug().len() == 1,
    };
    if s.chars().all(shown_as_is) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if shown_as_is(c) => out.push(c),
            c => out.extend(c.escape_debug()),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The chain of an error's sources, for a transport failure's detail.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
