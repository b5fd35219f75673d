//! The agent's side of `ironroot-client`: the service CA is the only trust anchor, and
//! after enrollment the agent presents its client certificate. Errors keep the agent's
//! own vocabulary: a refusal carries the service's `ApiError`, anything else on the way
//! is a transport failure.

use crate::AgentError;
use ironroot_client::ClientError;

/// The agent's HTTPS client of the service.
pub type ServiceClient = ironroot_client::Client;

/// A client of the service at `server` (https only), presenting `identity`
/// (certificate and key PEM) once enrolled.
pub(crate) fn service_client(
    server: &str,
    ca_pem: &[u8],
    identity: Option<(&str, &str)>,
) -> Result<ServiceClient, AgentError> {
    Ok(ServiceClient::agent(server, ca_pem, identity)?)
}

impl From<ClientError> for AgentError {
    fn from(e: ClientError) -> AgentError {
        match e {
            ClientError::Api { error, .. } => AgentError::Refused(error),
            ClientError::Unreachable { detail, .. } => AgentError::Transport(detail),
            ClientError::Status { status } => AgentError::Transport(format!("HTTP {status}")),
            ClientError::Decode(d) => AgentError::Transport(format!("unexpected response: {d}")),
            ClientError::Ca(e) => AgentError::Config(format!("service CA: {e}")),
            e @ ClientError::TooLarge { .. } => AgentError::Transport(e.to_string()),
            e => AgentError::Config(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ironroot_api::{ApiError, ErrorKind};

    #[test]
    fn a_refusal_keeps_the_services_kind_and_the_rest_is_transport_or_config() {
        let refused =
            ironroot_client::decode::<()>(403, br#"{"kind":"forbidden","message":"revoked"}"#)
                .unwrap_err();
        assert!(matches!(
            AgentError::from(refused),
            AgentError::Refused(ApiError {
                kind: ErrorKind::Forbidden,
                ..
            })
        ));
        let bare = ironroot_client::decode::<()>(502, b"").unwrap_err();
        assert_eq!(
            AgentError::from(bare).to_string(),
            "cannot reach the attestation service: HTTP 502 Bad Gateway"
        );
        let e = service_client("http://127.0.0.1:8443", b"", None)
            .err()
            .unwrap();
        assert!(matches!(e, AgentError::Config(m) if m.contains("https://")));
    }
}
