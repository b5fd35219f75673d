//! The one place where service errors become HTTP responses. Each variant maps to a
//! stable [`ErrorKind`]; internal detail is logged, never sent.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ironroot_api::{ApiError, ErrorKind};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    NonceInvalid(String),
    #[error("{0}")]
    EnrollmentRejected(String),
    #[error("{0}")]
    EvidenceRejected(String),
    #[error("the database is unavailable: nothing was decided or changed; retry shortly")]
    Store(#[from] StoreError),
    #[error("internal error")]
    Internal(String),
    /// The body is larger than this route accepts.
    #[error(
        "the request body is larger than this endpoint accepts (docs/api.md gives each limit)"
    )]
    PayloadTooLarge,
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// Too many requests in flight on this replica: shed, not queued.
    #[error("the service is busy; retry shortly")]
    Busy,
    /// An acknowledgement or resolution the alert's state does not allow.
    #[error("{0}")]
    AlertTransition(String),
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::BadRequest(_) => ErrorKind::BadRequest,
            ServiceError::Unauthenticated => ErrorKind::Unauthenticated,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::RateLimited(_) => ErrorKind::RateLimited,
            ServiceError::NonceInvalid(_) => ErrorKind::NonceInvalid,
            ServiceError::EnrollmentRejected(_) => ErrorKind::EnrollmentRejected,
            ServiceError::EvidenceRejected(_) => ErrorKind::EvidenceRejected,
            ServiceError::Store(_) => ErrorKind::Unavailable,
            ServiceError::Internal(_) => ErrorKind::Internal,
            ServiceError::PayloadTooLarge => ErrorKind::PayloadTooLarge,
            ServiceError::UnsupportedMediaType => ErrorKind::UnsupportedMediaType,
            ServiceError::Busy => ErrorKind::Unavailable,
            ServiceError::AlertTransition(_) => ErrorKind::Conflict,
        }
    }

    fn status(&self) -> StatusCode {
        match self.kind() {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::NonceInvalid
            | ErrorKind::EnrollmentRejected
            | ErrorKind::EvidenceRejected => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ServiceError::Internal(detail)
        | ServiceError::Store(StoreError::Unavailable(detail)) = &self
        {
            tracing::error!(%detail, "request failed");
        }
        let body = ApiError {
            kind: self.kind(),
            message: self.to_string(),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(axum::http::header::RETRY_AFTER, "1")], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}

/// `axum::Json` whose every rejection (415, 413, 400, 422) is a [`ServiceError`], so
/// that it reaches the wire as the documented `{"kind","message"}` body. Routes that
/// need authentication check it in a layer before this extractor reads any byte.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(from_json_rejection(&r)),
        }
    }
}

fn from_json_rejection(r: &axum::extract::rejection::JsonRejection) -> ServiceError {
    use axum::extract::rejection::JsonRejection as J;
    match r {
        J::MissingJsonContentType(_) => ServiceError::UnsupportedMediaType,
        J::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ServiceError::PayloadTooLarge
        }
        // serde's message names the field and position: the caller is already
        // authenticated here, or the route is public and documented.
        J::JsonDataError(e) => ServiceError::BadRequest(format!("invalid body: {}", e.body_text())),
        J::JsonSyntaxError(e) => {
            ServiceError::BadRequest(format!("malformed JSON: {}", e.body_text()))
        }
        _ => ServiceError::BadRequest("unreadable request body".into()),
    }
}

/// Turns the bare responses the router makes on its own (404 for an unknown path, 405
/// for a wrong method, 413 from the body limit) into the documented error body.
pub(crate) async fn uniform_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || res.status().is_success() || res.status().is_informational() {
        return res;
    }
    let kind = match res.status() {
        StatusCode::NOT_FOUND => ServiceError::NotFound("endpoint".into()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ServiceError::BadRequest("method not allowed on this endpoint".into())
        }
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ServiceError::UnsupportedMediaType,
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            ServiceError::BadRequest("bad request".into())
        }
        _ => return res,
    };
    kind.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_stable_kind_and_hides_internals() {
        let cases = [
            (
                ServiceError::BadRequest("x".into()),
                StatusCode::BAD_REQUEST,
            ),
            (ServiceError::Unauthenticated, StatusCode::UNAUTHORIZED),
            (ServiceError::Forbidden("x".into()), StatusCode::FORBIDDEN),
            (ServiceError::NotFound("host".into()), StatusCode::NOT_FOUND),
            (ServiceError::Conflict("x".into()), StatusCode::CONFLICT),
            (
                ServiceError::RateLimited("x".into()),
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (
                ServiceError::NonceInvalid("x".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                ServiceError::EnrollmentRejected("x".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                ServiceError::EvidenceRejected("x".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                ServiceError::Store(StoreError::Unavailable("disk I/O".into())),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                ServiceError::Internal("secret detail".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (ServiceError::PayloadTooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                ServiceError::UnsupportedMediaType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (ServiceError::Busy, StatusCode::SERVICE_UNAVAILABLE),
            (
                ServiceError::AlertTransition("already resolved".into()),
                StatusCode::CONFLICT,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(e.status(), status);
            let msg = e.to_string();
            assert!(
                !msg.contains("secret detail") && !msg.contains("disk I/O"),
                "{msg}"
            );
        }
    }
}
