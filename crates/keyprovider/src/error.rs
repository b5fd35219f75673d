/// Why a key provider request failed. The text is what skopeo or podman shows the user,
/// so it says what happened and what to do, and never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The request is not a keyprovider message we accept (malformed, too large, ...).
    #[error("bad keyprovider request: {0}")]
    Request(String),
    /// The annotation was not written by ironroot, or is damaged.
    #[error("the layer's ironroot key annotation is not valid: {0}")]
    Packet(String),
    /// The `provider:ironroot:...` arguments are not usable.
    #[error("{0}")]
    KeySpec(String),
    /// This provider instance cannot do that operation.
    #[error("{0}")]
    NotConfigured(String),
    /// The broker (or the node's agent) decided against it: the reason is its own.
    #[error("{0}")]
    Refused(String),
    /// The broker or the agent could not be reached.
    #[error("{0}")]
    Unreachable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ironroot_ocicrypt::KeyProviderError> for ProviderError {
    fn from(e: ironroot_ocicrypt::KeyProviderError) -> Self {
        ProviderError::Request(e.to_string())
    }
}

impl From<ironroot_api::KeyPacketError> for ProviderError {
    fn from(e: ironroot_api::KeyPacketError) -> Self {
        use ironroot_api::KeyPacketError as E;
        match e {
            E::Invalid(m) => ProviderError::Packet(m),
            other => ProviderError::Internal(other.to_string()),
        }
    }
}
