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
