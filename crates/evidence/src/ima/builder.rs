//! Writes an IMA list for development nodes, entry by entry, so the node can extend each
//! entry's template hash into its TPM as the kernel would.

use super::template::{check_entry, new_entry};
use super::{ImaEntry, ImaError, ImaLog, ImaPosition, DEFAULT_IMA_PCR, MAX_ENTRIES};
use ironroot_crypto::HashAlg;

/// The file name IMA gives its first entry.
pub const BOOT_AGGREGATE_NAME: &str = "boot_aggregate";

/// Accumulates `ima-ng` entries for PCR 10.
#[derive(Debug, Clone, Default)]
pub struct ImaListBuilder {
    log: ImaLog,
}

impl ImaListBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `path` with this digest was measured. The caller extends
    /// `entry.template_hash(bank)` into PCR `entry.pcr` of each bank.
    pub fn measure(
        &mut self,
        path: &str,
        file_digest_alg: HashAlg,
        file_digest: &[u8],
    ) -> Result<ImaEntry, ImaError> {
        let at = ImaPosition::Entry(self.log.entries.len());
        if self.log.entries.len() >= MAX_ENTRIES {
            return Err(ImaError::TooManyEntries { limit: MAX_ENTRIES });
        }
        let entry = new_entry(DEFAULT_IMA_PCR, file_digest_alg, file_digest, path);
        check_entry(&entry, at)?;
        self.log.entries.push(entry.clone());
        Ok(entry)
    }

    /// Records the `boot_aggregate` entry; its algorithm follows from its length
    /// (see [`super::boot_aggregate`] for computing it).
    pub fn boot_aggregate(&mut self, aggregate: &[u8]) -> Result<ImaEntry, ImaError> {
        let alg = HashAlg::ALL
            .into_iter()
            .find(|a| a.len() == aggregate.len())
            .ok_or(ImaError::DigestLength {
                at: ImaPosition::Entry(self.log.entries.len()),
                field: "boot aggregate",
                expected: HashAlg::Sha256.len(),
                found: aggregate.len(),
            })?;
        self.measure(BOOT_AGGREGATE_NAME, alg, aggregate)
    }

    /// The entries so far.
    pub fn log(&self) -> &ImaLog {
        &self.log
    }

    pub fn to_ascii(&self) -> String {
        self.log.to_ascii()
    }

    pub fn to_binary(&self) -> Vec<u8> {
        self.log.to_binary()
    }
}
