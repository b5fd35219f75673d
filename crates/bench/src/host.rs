//! The benchmark's host: an RSA-2048 software AK (as `tpm2_createak` makes it), a boot
//! event log of about 100 events, an ASCII IMA list of about 1,000 entries, and genuine
//! quotes over sha256 PCRs 0-10, all from `ironroot-testkit`.

use ironroot_crypto::HashAlg;
use ironroot_evidence::{EventLog, ImaListBuilder, ImaLog};
use ironroot_testkit::{AkKind, QuoteClock, SoftwareAk};
use ironroot_tpm_wire::{PcrSelection, PcrValues, TpmPublic};

pub use ironroot_testkit::FixtureError;

pub const BOOT_EVENTS: usize = 100;
pub const IMA_FILES: usize = 999;

/// One quote as the agent sends it.
pub struct Quote {
    pub attest: Vec<u8>,
    pub signature: Vec<u8>,
    /// The bare RSA signature inside `signature`.
    pub rsa_sig: Vec<u8>,
    pub nonce: Vec<u8>,
    pub pcrs: PcrValues,
}

pub struct Ak {
    key: SoftwareAk,
    pub public: TpmPublic,
    pub qualified_name: Vec<u8>,
}

impl Ak {
    pub fn generate() -> Result<Self, FixtureError> {
        let key = SoftwareAk::generate(AkKind::Rsa2048)?;
        Ok(Ak {
            public: key.public().clone(),
            qualified_name: key.qualified_name().to_vec(),
            key,
        })
    }

    /// TPM2_Quote over sha256 PCRs 0-10 of `pcrs`.
    pub fn quote(&self, pcrs: &PcrValues, nonce: &[u8], clock: u64) -> Result<Quote, FixtureError> {
        let clock = QuoteClock {
            clock,
            reset_count: 3,
            restart_count: 0,
        };
        let selection = PcrSelection(vec![(HashAlg::Sha256, (0..=10).collect())]);
        let q = self.key.quote(nonce, clock, pcrs, &selection)?;
        Ok(Quote {
            attest: q.attest,
            signature: q.signature,
            rsa_sig: q.raw_signature,
            nonce: nonce.to_vec(),
            pcrs: q.pcrs,
        })
    }
}

/// A UEFI boot of `BOOT_EVENTS` events in the sha1 and sha256 banks.
pub fn boot_log() -> Result<Vec<u8>, FixtureError> {
    ironroot_testkit::boot_log(BOOT_EVENTS)
}

/// The IMA list after boot: the boot aggregate and `IMA_FILES` files.
pub fn ima_list(boot: &EventLog) -> Result<ImaListBuilder, FixtureError> {
    ironroot_testkit::ima_list(boot, IMA_FILES)
}

/// What the TPM holds: the replay of both logs.
pub fn pcrs(boot: &EventLog, ima: &ImaLog) -> PcrValues {
    ironroot_testkit::replayed_pcrs(boot, ima)
}
