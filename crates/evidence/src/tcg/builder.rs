//! Writes a crypto-agile event log the way firmware does, for development nodes that boot
//! a software TPM. It refuses anything the parser would reject.

use super::parse::{LEGACY_DIGEST_LEN, SPEC_ID_SIGNATURE};
use super::{
    tpm_alg_id, BuildError, EventType, MAX_EVENTS, MAX_EVENT_DATA_BYTES, MAX_LOG_BYTES,
    MAX_PCR_INDEX, STARTUP_LOCALITY_SIGNATURE,
};
use ironroot_crypto::{digest, HashAlg};
use std::collections::BTreeMap;

/// Accumulates a log: the Spec ID header, then one record per call.
#[derive(Debug, Clone)]
pub struct EventLogBuilder {
    banks: Vec<HashAlg>,
    bytes: Vec<u8>,
    events: usize,
    pcr0_extended: bool,
    locality_recorded: bool,
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

impl EventLogBuilder {
    /// Starts a log for `banks` (duplicates ignored, order kept) with a PC Client Spec ID
    /// header: platform class 0, spec 2.0 errata 0, 64-bit UINTN, no vendor info.
    pub fn new(banks: &[HashAlg]) -> Result<Self, BuildError> {
        let mut unique: Vec<HashAlg> = Vec::new();
        for b in banks {
            if !unique.contains(b) {
                unique.push(*b);
            }
        }
        if unique.is_empty() {
            return Err(BuildError::NoBanks);
        }
        // At most four banks (one per HashAlg), so always within super::MAX_ALGORITHMS.
        let mut spec = Vec::new();
        spec.extend_from_slice(SPEC_ID_SIGNATURE);
        put_u32(&mut spec, 0); // platformClass: client
        spec.extend_from_slice(&[0, 2, 0, 2]); // minor, major, errata, uintnSize (64-bit)
        put_u32(&mut spec, unique.len() as u32);
        for alg in &unique {
            spec.extend_from_slice(&tpm_alg_id(*alg).to_le_bytes());
            spec.extend_from_slice(&(alg.len() as u16).to_le_bytes());
        }
        spec.push(0); // vendorInfoSize

        let mut bytes = Vec::new();
        put_u32(&mut bytes, 0);
        put_u32(&mut bytes, EventType::NoAction.value());
        bytes.extend_from_slice(&[0u8; LEGACY_DIGEST_LEN]);
        put_u32(&mut bytes, spec.len() as u32);
        bytes.extend_from_slice(&spec);
        Ok(EventLogBuilder {
            banks: unique,
            bytes,
            events: 1,
            pcr0_extended: false,
            locality_recorded: false,
        })
    }

    /// The banks every event carries a digest for.
    pub fn banks(&self) -> &[HashAlg] {
        &self.banks
    }

    /// Records an event whose digest is the hash of `digested` in every bank, and returns
    /// those digests for the caller to extend into the TPM. `event_data` is what the log
    /// shows (often a structure describing `digested`, e.g. [`super::efi_image_load_event`]).
    pub fn measure(
        &mut self,
        pcr: u32,
        event_type: EventType,
        event_data: &[u8],
        digested: &[u8],
    ) -> Result<BTreeMap<HashAlg, Vec<u8>>, BuildError> {
        if event_type == EventType::NoAction {
            return Err(BuildError::NoActionMeasured);
        }
        let digests: BTreeMap<HashAlg, Vec<u8>> = self
            .banks
            .iter()
            .map(|b| (*b, digest(*b, digested)))
            .collect();
        self.append(pcr, event_type, &digests, event_data)?;
        if pcr == 0 {
            self.pcr0_extended = true;
        }
        Ok(digests)
    }

    /// Records an EV_NO_ACTION event (all-zero digests): information that is not extended.
    pub fn no_action(&mut self, pcr: u32, data: &[u8]) -> Result<(), BuildError> {
        let is_locality = pcr == 0 && data.starts_with(STARTUP_LOCALITY_SIGNATURE);
        if is_locality
            && (self.locality_recorded
                || self.pcr0_extended
                || data.len() <= STARTUP_LOCALITY_SIGNATURE.len())
        {
            return Err(BuildError::MisplacedStartupLocality);
        }
        let zeros: BTreeMap<HashAlg, Vec<u8>> = self
            .banks
            .iter()
            .map(|b| (*b, vec![0u8; b.len()]))
            .collect();
        self.append(pcr, EventType::NoAction, &zeros, data)?;
        self.locality_recorded |= is_locality;
        Ok(())
    }

    /// Records that TPM2_Startup ran at `locality` (3 when an H-CRTM or the platform's
    /// startup locality is 3), which makes PCR 0 start at that value instead of zero.
    pub fn startup_locality(&mut self, locality: u8) -> Result<(), BuildError> {
        let mut data = STARTUP_LOCALITY_SIGNATURE.to_vec();
        data.push(locality);
        self.no_action(0, &data)
    }

    fn append(
        &mut self,
        pcr: u32,
        event_type: EventType,
        digests: &BTreeMap<HashAlg, Vec<u8>>,
        data: &[u8],
    ) -> Result<(), BuildError> {
        if pcr > MAX_PCR_INDEX {
            return Err(BuildError::PcrIndexOutOfRange(pcr));
        }
        if data.len() > MAX_EVENT_DATA_BYTES {
            return Err(BuildError::EventTooLarge(data.len()));
        }
        let digest_bytes: usize = self.banks.iter().map(|b| 2 + b.len()).sum();
        let record_len = 16 + digest_bytes + data.len();
        if self.events >= MAX_EVENTS || self.bytes.len() + record_len > MAX_LOG_BYTES {
            return Err(BuildError::LogFull);
        }
        put_u32(&mut self.bytes, pcr);
        put_u32(&mut self.bytes, event_type.value());
        put_u32(&mut self.bytes, self.banks.len() as u32);
        // Header order, as firmware writes them; `digests` always holds every bank.
        for alg in &self.banks {
            let d = digests.get(alg).map(Vec::as_slice).unwrap_or_default();
            self.bytes
                .extend_from_slice(&tpm_alg_id(*alg).to_le_bytes());
            self.bytes.extend_from_slice(d);
        }
        put_u32(&mut self.bytes, data.len() as u32);
        self.bytes.extend_from_slice(data);
        self.events += 1;
        Ok(())
    }

    /// The log as `binary_bios_measurements` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }
}
