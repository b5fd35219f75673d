//! Boot and runtime evidence that a node sends alongside a TPM quote: the TCG PC Client
//! crypto-agile event log (`binary_bios_measurements`) and the Linux IMA measurement list.
//!
//! For each format this crate parses untrusted bytes into typed values, replays them into
//! the PCR values they claim to produce (to be compared with a verified quote elsewhere),
//! and writes them, so that development nodes booting a software TPM produce a genuine log.
//!
//! What it must never do:
//! - trust its input: every parser bounds sizes and counts, rejects what it does not
//!   understand (unknown event types, algorithms, templates) instead of skipping it, and
//!   returns an error rather than panicking;
//! - decide trust: replay says what the log implies, never whether that is acceptable;
//! - do I/O or talk to a TPM. It is pure, so the verifier and fuzz targets can call it.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod ima;
mod reader;
pub mod tcg;

pub use ima::{boot_aggregate, ImaEntry, ImaError, ImaListBuilder, ImaLog, ImaPosition};
pub use tcg::{
    efi_global_variable_guid, efi_image_load_event, efi_image_security_database_guid,
    efi_variable_data, BuildError, Event, EventLog, EventLogBuilder, EventLogError, EventType,
    SpecId,
};
