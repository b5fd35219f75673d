//! The Linux IMA runtime measurement list (`ascii_runtime_measurements` or
//! `binary_runtime_measurements`) with the `ima-ng` and `ima-sig` templates.

mod ascii;
mod binary;
mod builder;
mod error;
mod template;

#[cfg(test)]
mod append_tests;
#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod tests;

pub use builder::{ImaListBuilder, BOOT_AGGREGATE_NAME};
pub use error::{ImaError, ImaPosition};

use ironroot_crypto::{HashAlg, Hasher};
use ironroot_tpm_wire::{Digest, PcrValues};
use serde::{Deserialize, Serialize};

/// Largest list accepted. A busy host measures tens of thousands of files; 64 MiB bounds
/// memory per node while leaving room for that.
pub const MAX_LIST_BYTES: usize = 64 << 20;
/// Most entries in one list.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Longest path (Linux PATH_MAX).
pub const MAX_PATH_BYTES: usize = 4096;
/// Largest template data of one binary entry: a path, a digest and a signature.
pub const MAX_TEMPLATE_DATA_BYTES: usize = 16 << 10;
/// Longest template name in the binary form (the kernel's own limit).
pub const MAX_TEMPLATE_NAME_BYTES: usize = 255;
/// Highest PCR index.
pub const MAX_PCR_INDEX: u32 = 23;
/// The PCR IMA extends unless configured otherwise.
pub const DEFAULT_IMA_PCR: u32 = 10;

/// One measurement. `template` is `ima-ng` or `ima-sig`; `signature` is present exactly
/// for `ima-sig` (empty when the file had none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImaEntry {
    pub pcr: u32,
    pub template: String,
    pub file_digest_alg: HashAlg,
    /// The file's digest; all zeros (or, from kernels before 5.x, empty) for a violation.
    pub file_digest: Digest,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Digest>,
    /// The SHA-1 template hash the list shows; all zeros marks a violation.
    pub template_hash_sha1: Digest,
}

/// A parsed measurement list, in measurement order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImaLog {
    pub entries: Vec<ImaEntry>,
}

impl ImaEntry {
    /// True for a violation entry (a file measured while open for writing, or similar):
    /// IMA records a zero template hash and extends all-ones instead.
    pub fn is_violation(&self) -> bool {
        self.template_hash_sha1.0.len() == template::SHA1_LEN
            && self.template_hash_sha1.0.iter().all(|b| *b == 0)
    }

    /// The template data the template hash covers: the length-prefixed fields
    /// `d-ng` (`"<alg>:\0"` + digest) and `n-ng` (path + NUL), then `sig` for `ima-sig`.
    pub fn template_data(&self) -> Vec<u8> {
        template::encode(self)
    }

    /// What IMA extends into `self.pcr` of `bank` for this entry: `H_bank(template data)`,
    /// or all 0xFF bytes for a violation. Development nodes extend this into their TPM.
    pub fn template_hash(&self, bank: HashAlg) -> Vec<u8> {
        if self.is_violation() {
            vec![0xFF; bank.len()]
        } else {
            template::hash_template(self, bank)
        }
    }
}

impl ImaLog {
    /// Parses either form, telling them apart by the first bytes: the ASCII form starts
    /// with a decimal PCR index and a space, while the binary form starts with a
    /// little-endian PCR index, whose first byte (≤ 23) is never an ASCII digit. Empty
    /// input is an empty list. Total: any input gives a list or an error.
    pub fn parse(bytes: &[u8]) -> Result<ImaLog, ImaError> {
        if bytes.len() > MAX_LIST_BYTES {
            return Err(ImaError::TooLarge {
                at: ImaPosition::Input,
                what: "list",
                size: bytes.len(),
                limit: MAX_LIST_BYTES,
            });
        }
        if looks_ascii(bytes) {
            ascii::parse(bytes)
        } else {
            binary::parse(bytes)
        }
    }

    /// Parses `tail`, bytes a host appended to the `previous` bytes this list was parsed
    /// from, and appends its entries. The outcome is that of `parse(previous ++ tail)`:
    /// the same entries, the same errors (positions included) and the same limits, for
    /// the cost of parsing the tail only. IMA lists only grow while a host runs, so a
    /// verifier that keeps the previous list checks each new one this way.
    ///
    /// Returns `Ok(false)`, list unchanged, when `previous` cannot be resumed from: it is
    /// empty, or ASCII whose last line has no newline (the tail could continue that
    /// line); the caller then parses the whole. On error the list is unchanged too.
    ///
    /// The caller guarantees that `self` is what `parse(previous)` returned; anything
    /// else gives a list that belongs to no input.
    pub fn parse_appended(&mut self, previous: &[u8], tail: &[u8]) -> Result<bool, ImaError> {
        let total = previous.len().saturating_add(tail.len());
        if total > MAX_LIST_BYTES {
            return Err(ImaError::TooLarge {
                at: ImaPosition::Input,
                what: "list",
                size: total,
                limit: MAX_LIST_BYTES,
            });
        }
        let ascii = looks_ascii(previous);
        if previous.is_empty() || (ascii && !previous.ends_with(b"\n")) {
            return Ok(false);
        }
        let before = self.entries.len();
        let parsed = if ascii {
            ascii::parse_tail(tail, &mut self.entries)
        } else {
            binary::parse_tail(tail, &mut self.entries)
        };
        if let Err(e) = parsed {
            self.entries.truncate(before);
            return Err(e);
        }
        Ok(true)
    }

    /// The PCR values the list implies in each of `banks`, from all-zero PCRs. Every bank
    /// asked for appears, even when the list is empty.
    pub fn replay(&self, banks: &[HashAlg]) -> PcrValues {
        let mut pcrs = PcrValues::default();
        for bank in banks {
            pcrs.0.entry(*bank).or_default();
        }
        self.replay_into(0, banks, &mut pcrs);
        pcrs
    }

    /// Extends `pcrs` in each of `banks` with the entries from index `from` on. A verifier
    /// that replayed the list before it grew extends that result with the new entries:
    /// replaying `[..n]` then `replay_into(n, ..)` equals replaying the whole.
    pub fn replay_into(&self, from: usize, banks: &[HashAlg], pcrs: &mut PcrValues) {
        for entry in self.entries.get(from..).unwrap_or_default() {
            for bank in banks {
                pcrs.extend(*bank, entry.pcr, &entry.template_hash(*bank));
            }
        }
    }

    /// The list in the kernel's ASCII form.
    pub fn to_ascii(&self) -> String {
        ascii::write(&self.entries)
    }

    /// The list in the kernel's binary form (little-endian, as on x86 and canonical mode).
    pub fn to_binary(&self) -> Vec<u8> {
        binary::write(&self.entries)
    }
}

fn looks_ascii(bytes: &[u8]) -> bool {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && bytes.get(digits) == Some(&b' ')
}

/// The boot aggregate IMA records as its first entry: the hash, in `bank`, of PCRs 0–7
/// and, for banks other than SHA-1, also PCRs 8–9 (Linux 5.8 and later). PCRs missing
/// from `pcrs` count as zeros, as an unextended PCR reads.
pub fn boot_aggregate(pcrs: &PcrValues, bank: HashAlg) -> Vec<u8> {
    let last = if bank == HashAlg::Sha1 { 7 } else { 9 };
    let zeros = vec![0u8; bank.len()];
    let mut h = Hasher::new(bank);
    for index in 0..=last {
        h.update(
            pcrs.get(bank, index)
                .map_or(zeros.as_slice(), |d| d.0.as_slice()),
        );
    }
    h.finish()
}
