//! Wire types of ironroot's REST API and agent protocol, shared by the service, the
//! agent and the CLI so that the three can never disagree on a field name.
//!
//! Pure serde types: no transport, no validation beyond shape. Binary TPM structures
//! travel as standard base64 ([`B64`]); the service parses them with limits.
//! The protocol is specified in `docs/agent-protocol.md` and `docs/api.md`.

mod admin;
mod agent;
mod alerts;
mod audit;
mod b64;
mod broker;
mod error;
mod events;
mod governance;
mod hostname;
mod identity;
mod images;
mod key_packet;
mod kubernetes;
mod trust;
mod workloads;

pub use admin::*;
pub use agent::*;
pub use alerts::*;
pub use audit::*;
pub use b64::B64;
pub use broker::*;
pub use error::{ApiError, ErrorKind};
pub use events::TrustEvent;
pub use governance::*;
pub use hostname::{dns_hostname, HostnameError, MAX_HOSTNAME};
pub use identity::*;
pub use images::ImageScanSummary;
pub use key_packet::{KeyPacket, KeyPacketError, MAX_KEY_PACKET_LEN};
pub use kubernetes::{
    node_name, BindNode, NodeNameError, NodeTrust, NodeTrustList, UnboundNode, MAX_NODE_NAME,
};
pub use trust::{IllegalTrustTransition, TrustInput, TrustState};
pub use workloads::*;

/// Path prefix of every versioned endpoint.
pub const API_PREFIX: &str = "/v1";
