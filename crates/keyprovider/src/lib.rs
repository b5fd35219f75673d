//! The ironroot key provider for ocicrypt (brief R7, R8).
//!
//! skopeo, podman, buildah, cri-o and containerd encrypt and decrypt image layers through
//! key providers named in `OCICRYPT_KEYPROVIDER_CONFIG`. This crate is ironroot's, over
//! both transports ocicrypt offers:
//!
//! * **command**: the `ironroot-keyprovider` binary reads one JSON request on stdin and
//!   writes the reply on stdout ([`command`]);
//! * **gRPC**: `keyprovider.KeyProviderService` (`WrapKey`, `UnWrapKey`) on a unix socket
//!   ([`grpc`]); the agent serves it on each node, and `ironroot-keyprovider serve` on a
//!   build host.
//!
//! **Wrap** (`--encryption-key provider:ironroot:KEY[+POLICY]`): the layer's private
//! options are sealed by the broker under key `KEY` (created with `POLICY` if missing), so
//! the build host never holds the key ([`broker`]). The annotation is a small
//! [`Packet`]: key id, name, IV and AES-GCM ciphertext.
//!
//! **Unwrap** (`--decryption-key provider:ironroot`): the node's agent asks the broker for
//! the key with a fresh attestation and a TPM-certified binding key, unwraps it inside
//! the TPM, and opens the packet. Neither the key nor the options are ever logged.
//!
//! The logic lives in [`Handler`]; the transports only carry bytes to it.

#![forbid(unsafe_code)]

pub mod broker;
pub mod command;
mod error;
pub mod grpc;
mod handler;
mod socket;
mod spec;

pub use error::ProviderError;
pub use handler::{open_packet, BoxFuture, Handler, Unwrapper, Wrapper};
pub use ironroot_api::{KeyPacket as Packet, MAX_KEY_PACKET_LEN as MAX_PACKET_LEN};
pub use spec::KeySpec;

/// The provider name used when none is configured: the `NAME` in `provider:NAME`.
pub const DEFAULT_NAME: &str = "ironroot";
