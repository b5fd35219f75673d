//! Test and benchmark fixtures: a software attestation key that signs genuine TPM 2.0
//! quotes (TPMS_ATTEST and TPMT_SIGNATURE bytes that `ironroot_tpm_wire::verify_quote`
//! accepts), and a realistic host image (a crypto-agile boot event log and an `ima-ng`
//! list, with the PCRs their replay gives).
//!
//! **Never** link this crate into a product binary. A software key proves nothing about
//! a TPM: its "restricted, fixedTPM" attributes are claims this crate makes, not facts a
//! TPM vouches for. The service accepts such keys only through the benchmark enrollment
//! path, which is compiled only with the `bench-enrollment` feature and refused unless the
//! service's configuration allows it.
//!
//! Module `databases` gives tests a throwaway SQLite directory and a private PostgreSQL
//! cluster, shared by the store's tests and the end-to-end replica tests.
//!
//! [`skip_missing_peer`] is the one rule for a test whose real peer (swtpm, PostgreSQL,
//! SoftHSM2, the registry, skopeo...) is missing: fail in CI, skip and record it only where
//! a developer allowed it.
//!
//! It signs with aws-lc-rs directly (module `signer`): `ironroot-crypto` owns the
//! product's cryptography and, by design, offers only verification for attestation keys,
//! since the product never signs as a TPM. This is the one exception, and it stays here.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod ak;
pub mod databases;
mod image;
mod peer;
mod signer;

pub use ak::{bench_qualified_name, AkKind, Quote, QuoteClock, SoftwareAk};
pub use image::{boot_log, ima_list, replayed_pcrs, HostImage, ImageSize};
pub use peer::skip_missing_peer;

/// Why a fixture could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    #[error("software key generation or signing failed")]
    Key,
    #[error("marshalling: {0}")]
    Wire(#[from] ironroot_tpm_wire::WireError),
    #[error("event log: {0}")]
    Build(#[from] ironroot_evidence::BuildError),
    #[error("event log: {0}")]
    EventLog(#[from] ironroot_evidence::EventLogError),
    #[error("IMA list: {0}")]
    Ima(#[from] ironroot_evidence::ImaError),
    #[error("PCR {0} cannot be selected (0-23 only)")]
    PcrIndex(u32),
}
