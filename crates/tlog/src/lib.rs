//! The transparency log's formats, shared by the service that appends to the log, the CLI
//! that exports and verifies audit bundles, and the witness that cosigns checkpoints.
//!
//! - [`merkle`]: RFC 9162 §2.1 Merkle trees, tree heads, inclusion and consistency proofs
//!   from a store of perfect subtree hashes, and the RFC's verification algorithms.
//! - [`note`]: C2SP signed notes (Ed25519) and their verifier and signer key strings.
//! - [`checkpoint`]: the C2SP tlog-checkpoint note text.
//! - [`cosignature`]: C2SP tlog-cosignature v1 (timestamped Ed25519 witness signatures).
//! - [`witness`]: a witness's decisions (same, consistent, rollback, fork) and its state.
//!
//! Everything here is pure: no I/O, no clock, no database, no async. Notes and proofs come
//! from untrusted places, so parsing has size limits, typed errors and never panics; a
//! signature or proof that does not verify is always an error, never a flag to check.

#![forbid(unsafe_code)]

pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod witness;
