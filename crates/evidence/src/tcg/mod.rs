//! The TCG PC Client crypto-agile event log that UEFI firmware leaves in
//! `/sys/kernel/security/tpm0/binary_bios_measurements`.

mod builder;
mod describe;
mod error;
mod event_type;
mod parse;
mod uefi;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod tests;

pub use builder::EventLogBuilder;
pub use error::{BuildError, EventLogError};
pub use event_type::EventType;
pub use uefi::{
    efi_global_variable_guid, efi_image_load_event, efi_image_security_database_guid,
    efi_variable_data,
};

use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::{Digest, PcrValues};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest log accepted. Real firmware logs are tens of KiB; 16 MiB leaves room for
/// servers with many option ROMs and certificates while bounding memory per node.
pub const MAX_LOG_BYTES: usize = 16 << 20;
/// Most events in one log, the Spec ID header included.
pub const MAX_EVENTS: usize = 65_536;
/// Largest data of one event (a certificate database is the usual big one).
pub const MAX_EVENT_DATA_BYTES: usize = 1 << 20;
/// Most digests in one event and algorithms in the header: a TPM has at most a few banks.
pub const MAX_ALGORITHMS: usize = 8;
/// Highest PCR a PC Client TPM has.
pub const MAX_PCR_INDEX: u32 = 23;

/// `"StartupLocality\0"`: the EV_NO_ACTION event that says which locality ran
/// TPM2_Startup, which changes the initial value of PCR 0.
pub const STARTUP_LOCALITY_SIGNATURE: &[u8; 16] = b"StartupLocality\0";

/// The content of the Spec ID header (TCG_EfiSpecIDEvent) that opens every crypto-agile log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecId {
    pub platform_class: u32,
    pub spec_version_major: u8,
    pub spec_version_minor: u8,
    pub spec_errata: u8,
    pub uintn_size: u8,
    /// The PCR banks every event carries a digest for, in header order.
    pub algorithms: Vec<HashAlg>,
    pub vendor_info: Digest,
}

/// One measured (or informational) event after the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log; the Spec ID header is 0, so the first event here is 1.
    pub index: u32,
    pub pcr: u32,
    pub event_type: EventType,
    /// One digest per header algorithm.
    pub digests: BTreeMap<HashAlg, Digest>,
    /// The raw event data, which is what trust reports quote.
    pub data: Digest,
}

/// A parsed crypto-agile event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLog {
    pub spec: SpecId,
    pub events: Vec<Event>,
}

impl EventLog {
    /// Parses `binary_bios_measurements`. Total: any input gives a log or an error.
    pub fn parse(bytes: &[u8]) -> Result<EventLog, EventLogError> {
        parse::parse_log(bytes)
    }

    /// The PCR values this log claims, for every bank in its header.
    ///
    /// PCRs start at zero (PCR 0 at the StartupLocality value when the log has that
    /// event) and EV_NO_ACTION events are not extended. Only PCRs the log touches appear;
    /// an absent PCR was never extended. PCRs 17–22 are also replayed from zero, which is
    /// what they hold after a dynamic launch; a static boot measuring into them will not
    /// match a quote, and so fails closed.
    pub fn replay(&self) -> PcrValues {
        let mut pcrs = PcrValues::default();
        for bank in &self.spec.algorithms {
            pcrs.0.entry(*bank).or_default();
        }
        for event in &self.events {
            if event.event_type == EventType::NoAction {
                if let Some(locality) = event.startup_locality() {
                    for bank in &self.spec.algorithms {
                        pcrs.set(*bank, 0, locality_initial_value(*bank, locality));
                    }
                }
                continue;
            }
            for bank in &self.spec.algorithms {
                // A parsed log always has every bank; a hand-built one missing a digest
                // replays to a value no TPM can produce, so skipping fails closed.
                if let Some(d) = event.digests.get(bank) {
                    pcrs.extend(*bank, event.pcr, &d.0);
                }
            }
        }
        pcrs
    }
}

impl Event {
    /// The locality of a StartupLocality event (EV_NO_ACTION on PCR 0), if this is one.
    pub fn startup_locality(&self) -> Option<u8> {
        if self.event_type != EventType::NoAction || self.pcr != 0 {
            return None;
        }
        let rest = self
            .data
            .0
            .strip_prefix(STARTUP_LOCALITY_SIGNATURE.as_slice())?;
        rest.first().copied()
    }

    /// A short human description: the text the event carries when it is printable
    /// (an EV_IPL string, an image's file path, a variable's name), else the type name.
    pub fn description(&self) -> String {
        describe::describe(self.event_type, &self.data.0)
            .unwrap_or_else(|| self.event_type.name().to_string())
    }
}

/// PCR 0's value before any extend when TPM2_Startup ran at `locality`: zeros with the
/// locality in the last byte.
fn locality_initial_value(bank: HashAlg, locality: u8) -> Vec<u8> {
    let mut v = vec![0u8; bank.len()];
    if let Some(last) = v.last_mut() {
        *last = locality;
    }
    v
}

/// The TPM_ALG_ID of a bank (the mapping lives in tpm-wire, with the other TPM ids).
pub(crate) const fn tpm_alg_id(alg: HashAlg) -> u16 {
    ironroot_tpm_wire::alg::hash_to_tpm(alg)
}

/// The bank for a TPM_ALG_ID; `None` for algorithms we cannot hash (SM3, SHA3).
pub(crate) fn hash_alg_from_tpm_id(id: u16) -> Option<HashAlg> {
    ironroot_tpm_wire::alg::hash_from_tpm(id).ok()
}
