use ironroot_crypto::HashAlg;

/// Errors from TPM access. TPM response codes are kept as text for operators; none of
/// the variants carries key material or secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TpmError {
    #[error("cannot open TPM through TCTI `{tcti}`: {reason}")]
    Open { tcti: String, reason: String },
    #[error("TPM command {command} failed: {reason}")]
    Command {
        command: &'static str,
        reason: String,
    },
    #[error("no attestation key at persistent handle {0:#010x}")]
    NoAttestationKey(u32),
    #[error("persistent handle {handle:#010x} holds a key that is not the configured attestation key: {why}")]
    AttestationKeyMismatch { handle: u32, why: &'static str },
    #[error("malformed {what}: {why}")]
    Malformed { what: &'static str, why: String },
    #[error("PCR bank {0} is not allocated on this TPM")]
    BankNotAllocated(HashAlg),
    #[error("PCR index {0} is out of range or not allowed for this operation")]
    PcrIndex(u32),
    #[error("PCR values changed during every one of {0} quote attempts")]
    PcrsKeptChanging(u32),
    #[error("NV index {0:#010x} is not an ordinary owner-authorised index")]
    NvIndex(u32),
    #[error("swtpm: {0}")]
    Swtpm(String),
}

impl TpmError {
    /// Wraps a tss-esapi error with the TPM command that produced it.
    pub(crate) fn command(command: &'static str) -> impl FnOnce(tss_esapi::Error) -> TpmError {
        move |e| TpmError::Command {
            command,
            reason: e.to_string(),
        }
    }

    pub(crate) fn malformed(what: &'static str) -> impl FnOnce(tss_esapi::Error) -> TpmError {
        move |e| TpmError::Malformed {
            what,
            why: e.to_string(),
        }
    }
}
