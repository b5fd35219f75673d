//! Container image signatures in the two formats ironroot speaks, bytes in and bytes out.
//!
//! * [`payload`]: the simple-signing JSON document both formats sign.
//! * [`cosign`]: cosign's ECDSA P-256 keys (its encrypted key file included) and
//!   signatures, as skopeo's `sigstoreSigned` policy checks them.
//! * [`dsse`]: DSSE v1 envelopes signed with a cosign key, as `cosign attest` stores
//!   in-toto attestations (`sha256-<hex>.att`).
//! * [`openpgp`]: containers/image simple signing with OpenPGP (podman, cri-o, OpenShift,
//!   skopeo `--sign-by` and the `signedBy` policy): a small hand-written OpenPGP subset.
//!
//! This crate must never do I/O (no files, network, clock or gpg: callers pass bytes and
//! times in), never hold a second crypto stack (all primitives come from `ironroot-crypto`),
//! and never report a signature as good without having verified it: a verified result is
//! returned only from a successful check, and it names the manifest digest the signer
//! vouched for, which the caller must compare with the image it is admitting.
#![forbid(unsafe_code)]

pub mod cosign;
pub mod dsse;
pub mod openpgp;
pub mod payload;
pub mod pem;

pub use payload::{ManifestDigest, PayloadError, PayloadType, SimpleSigningPayload};
