//! Development nodes: machines with no firmware that measures anything. A development
//! node *boots* its TPM (a swtpm process) the way UEFI firmware, the boot loader and the
//! kernel would on real hardware: from a node directory holding firmware blobs, a boot
//! loader, a kernel, an initrd, a kernel command line and the container runtime's
//! binaries, it writes a genuine TCG PC Client crypto-agile event log and extends every
//! digest into the TPM, then writes an IMA (ima-ng) measurement list for the runtime's
//! binaries, extended into PCR 10, as the kernel's IMA policy would.
//!
//! The logs land where Linux exposes them, under the node directory
//! (`sys/kernel/security/tpm0/binary_bios_measurements`,
//! `sys/kernel/security/ima/ascii_runtime_measurements`), so the agent reads them exactly
//! as it reads a real host's. Nothing here is used on real hardware; it must never write
//! outside the node directory or touch a TPM other than the one it is given.

mod boot;
mod ima;
mod layout;

pub use boot::{boot, BootSummary};
pub use ima::ImaEmulator;
pub use layout::NodeLayout;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevNodeError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("TPM: {0}")]
    Tpm(#[from] ironroot_tpm::TpmError),
    #[error("event log: {0}")]
    Log(String),
    #[error("this TPM was already booted (PCR 0 is not zero): restart its swtpm to boot again")]
    AlreadyBooted,
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DevNodeError + '_ {
    move |source| DevNodeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Deterministic stand-in for Secure Boot variable contents (key lists, certificates).
pub(crate) fn layout_blob(name: &str) -> Vec<u8> {
    ironroot_crypto::digest(
        ironroot_crypto::HashAlg::Sha256,
        format!("ironroot devnode secure boot {name}").as_bytes(),
    )
}
