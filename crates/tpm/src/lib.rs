//! TPM 2.0 access for the ironroot agent, and a runner for the reference TPM (swtpm).
//!
//! The agent talks to the TPM only through [`TpmDevice`], a narrow trait named after
//! what attestation needs (endorsement key, attestation key, quotes, credential
//! activation, NV storage, key binding). [`EsapiTpm`] implements it over tss-esapi for
//! real hardware (`device:/dev/tpmrm0`) and for swtpm (`swtpm:host=..,port=..`).
//! [`swtpm::Swtpm`] starts and stops a reference TPM for tests and development nodes.
//!
//! This crate must never leave transient objects or sessions loaded in the TPM (swtpm
//! has no resource manager and only three object slots), never log secrets or unwrapped
//! key material, and never decide whether evidence is trustworthy: it returns what the
//! TPM signed, and verification happens in `ironroot-tpm-wire` on the other side.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
mod esapi;
pub mod swtpm;

use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::PcrValues;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

pub use error::TpmError;
pub use esapi::{EsapiTpm, LoadedHandles};

/// The TCG default persistent handle for an ironroot attestation key.
pub const DEFAULT_AK_HANDLE: u32 = 0x8101_0002;

/// Which TCG default endorsement key template to use.
///
/// swtpm_setup provisions RSA-2048 and ECC NIST P-384 EKs with certificates; a P-256
/// EK can be derived on any TPM but usually has no certificate there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EkKind {
    Rsa2048,
    EccP256,
    EccP384,
}

/// An endorsement key as the TPM derives it from the default template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementKey {
    /// Marshalled TPM2B_PUBLIC (with its two-byte size).
    pub public: Vec<u8>,
    /// DER certificate from the TCG NV index for this kind, when the manufacturer
    /// provisioned one.
    pub certificate: Option<Vec<u8>>,
}

/// Algorithm of the attestation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AkKind {
    /// RSA-2048 with RSASSA-PKCS1-v1_5 over SHA-256.
    #[default]
    Rsa2048,
    /// ECC NIST P-256 with ECDSA over SHA-256.
    EccP256,
}

/// Where and what the attestation key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AkConfig {
    pub kind: AkKind,
    /// Persistent handle (0x81xxxxxx) the AK is kept at across agent restarts.
    pub handle: u32,
}

impl Default for AkConfig {
    fn default() -> Self {
        AkConfig {
            kind: AkKind::default(),
            handle: DEFAULT_AK_HANDLE,
        }
    }
}

/// A restricted signing key under the EK, persisted in the TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationKey {
    /// Marshalled TPM2B_PUBLIC (with its two-byte size).
    pub public: Vec<u8>,
    /// TPM Name (nameAlg identifier followed by the digest of the public area).
    pub name: Vec<u8>,
    pub handle: u32,
}

/// A quote and the PCR values it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Marshalled TPMS_ATTEST.
    pub attest: Vec<u8>,
    /// Marshalled TPMT_SIGNATURE.
    pub signature: Vec<u8>,
    /// The PCR values whose digest the quote carries.
    pub pcrs: PcrValues,
}

/// TPM2_Certify output: the AK's statement about another key loaded in the same TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// Marshalled TPMS_ATTEST.
    pub attest: Vec<u8>,
    /// Marshalled TPMT_SIGNATURE.
    pub signature: Vec<u8>,
}

/// An RSA-2048 decrypt-only key bound to this TPM (fixedTPM, fixedParent), kept outside
/// the TPM as the blobs that TPM2_Load takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingKey {
    /// Marshalled TPM2B_PUBLIC (with its two-byte size).
    pub public: Vec<u8>,
    /// TPM2B_PRIVATE (with its two-byte size), wrapped by the EK.
    pub private: Vec<u8>,
}

/// Selected PCRs: each bank with the indices wanted in it.
pub type PcrSelection = [(HashAlg, Vec<u32>)];

/// What the agent needs from a TPM. Object-safe so the agent can hold a
/// `Box<dyn TpmDevice>`; every method leaves no transient object or session loaded.
pub trait TpmDevice: Send {
    /// PCR banks that have at least one PCR allocated.
    fn banks(&mut self) -> Result<Vec<HashAlg>, TpmError>;

    /// The EK from the TCG default template, and its certificate if provisioned.
    fn endorsement_key(&mut self, kind: EkKind) -> Result<EndorsementKey, TpmError>;

    /// Loads the persistent AK, or creates and persists one under the EK.
    fn attestation_key(&mut self) -> Result<AttestationKey, TpmError>;

    /// Evicts the persistent AK, if there is one, so the next call creates a new one.
    fn reset_attestation_key(&mut self) -> Result<(), TpmError>;

    /// TPM2_ActivateCredential with the AK and the RSA EK. Both arguments include their
    /// two-byte size prefix (TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET).
    fn activate_credential(
        &mut self,
        id_object: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError>;

    /// Quotes `selection` with the AK over `nonce`, returning the values the quote covers.
    fn quote(&mut self, nonce: &[u8], selection: &PcrSelection) -> Result<Quote, TpmError>;

    fn pcr_read(&mut self, selection: &PcrSelection) -> Result<PcrValues, TpmError>;

    /// Extends PCR `index` in every bank given, in one TPM2_PCR_Extend.
    fn pcr_extend(
        &mut self,
        index: u32,
        digests: &BTreeMap<HashAlg, Vec<u8>>,
    ) -> Result<(), TpmError>;

    /// Resets a resettable PCR (16 or 23).
    fn pcr_reset(&mut self, index: u32) -> Result<(), TpmError>;

    /// Defines an ordinary owner-authorised NV index of `size` bytes.
    fn nv_define(&mut self, index: u32, size: u16) -> Result<(), TpmError>;
    fn nv_write(&mut self, index: u32, data: &[u8]) -> Result<(), TpmError>;
    /// Reads the whole index.
    fn nv_read(&mut self, index: u32) -> Result<Vec<u8>, TpmError>;
    fn nv_undefine(&mut self, index: u32) -> Result<(), TpmError>;

    /// Creates a fresh binding key under the RSA EK.
    fn create_binding_key(&mut self) -> Result<BindingKey, TpmError>;

    /// TPM2_Certify of the binding key by the AK, over `nonce`.
    fn certify_binding_key(
        &mut self,
        key: &BindingKey,
        nonce: &[u8],
    ) -> Result<Certification, TpmError>;

    /// TPM2_RSA_Decrypt with RSA-OAEP-SHA256 and `label` (include the trailing NUL,
    /// as in `b"TPM2\0"`).
    fn unbind(
        &mut self,
        key: &BindingKey,
        ciphertext: &[u8],
        label: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError>;
}
