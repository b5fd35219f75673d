//! The trust agent: runs on each node, next to its TPM.
//!
//! It enrolls once (EK and AK to the service, then TPM2_ActivateCredential to prove the
//! AK lives beside the EK, then a client certificate for mutual TLS), and from then on
//! answers every challenge with a fresh quote and the node's event log and IMA list. It
//! connects out to the service, so nodes behind NAT work. It attests at once when its
//! measurements change, and otherwise when the service says to.
//!
//! The agent never decides trust and never holds a secret it could leak: the AK never
//! leaves the TPM, and the client key stays in its state directory with mode 0600.

mod client;
pub mod command;
mod enroll;
mod keyprovider;
mod keys;
pub mod kubelet;
mod lifecycle;
mod run;

pub use client::ServiceClient;
pub use ironroot_api::ReleaseRequest;
pub use keyprovider::{bind_keyprovider, serve_keyprovider, NodeUnwrapper, DEFAULT_KEY_CACHE};
pub use keys::{PreparedRelease, ReleaseTimings, ReleasedKey};
pub use run::{run, AgentConfig, DevNode, Session};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    #[error("TPM: {0}")]
    Tpm(#[from] ironroot_tpm::TpmError),
    #[error("development node: {0}")]
    DevNode(#[from] ironroot_devnode::DevNodeError),
    #[error("cannot reach the attestation service: {0}")]
    Transport(String),
    #[error("the service refused: {0}")]
    Refused(ironroot_api::ApiError),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
}
