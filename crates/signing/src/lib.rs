//! Container image signatures in the two formats ironroot speaks, bytes in and bytes out.
//!
//! * [`payload`]: the simple-signing JSON document both formats sign.
//! * [`cosign`]: cosign's ECDSA P-256 keys (its encrypted key file included) and
//!   signatures, as skopeo's `sigstoreSigned` policy checks them.
//! * [`dsse`]: DSSE v1 envelopes signed with a cosign key, as `cosign attest` stores
//!   in-toto attestations (`sha256-<hex>.att`).
//! * [`openpgp`]: containers/image simple signing with OpenPGP (podman, cri-o, OpenShift,
//!   skopeo `--sign-by` and the `signedBy` policy): a small hand-written OpenPGP subset.
//! * [`identity`]: the image pinned by digest and containers/image's identity rules.
//! * [`verdict`] and [`attestation`]: the verifier's decisions. Policy in ([`Trust`]),
//!   evidence in (bytes the caller already fetched, or why it could not), and a typed
//!   verdict out for every signature or attestation, with the reason for each rejection;
//!   `ironroot verify` and the admission webhook call the same functions.
//!
//! This crate must never do I/O (no files, network, clock or gpg: callers pass bytes and
//! times in), never hold a second crypto stack (all primitives come from `ironroot-crypto`),
//! and never report a signature as good without having verified it: a verified result is
//! returned only from a successful check, and it names the manifest digest the signer
//! vouched for, which the caller must compare with the image it is admitting.
#![forbid(unsafe_code)]

pub mod attestation;
pub mod cosign;
pub mod dsse;
pub mod identity;
pub mod openpgp;
pub mod payload;
pub mod pem;
pub mod statement;
mod trust;
pub mod verdict;

pub use attestation::{verify_attestations, AttestationLayer, AttestationReport};
pub use identity::{check_identity, IdentityRule, PinnedImage};
pub use payload::{ManifestDigest, PayloadError, PayloadType, SimpleSigningPayload};
pub use statement::Statement;
pub use trust::{Trust, TrustedCosignKey};
pub use verdict::{verify_signatures, SignatureEvidence, SignatureReport};
