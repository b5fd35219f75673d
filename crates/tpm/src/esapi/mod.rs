//! [`TpmDevice`] over tss-esapi (the TSS2 ESAPI C library).
//!
//! Every command authorises with the password session or a policy session that lives
//! for one command; every transient object is flushed by the scope helpers in
//! [`scope`], so nothing stays loaded between calls. That is what lets this run on
//! swtpm, which has no resource manager and only three object slots.

mod credential;
mod keys;
mod marshal;
mod nv;
mod pcr;
mod scope;

use crate::{
    AkConfig, AttestationKey, BindingKey, Certification, EkKind, EndorsementKey, PcrSelection,
    Quote, TpmDevice, TpmError,
};
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::PcrValues;
use std::collections::BTreeMap;
use std::str::FromStr;
use tss_esapi::{Context, TctiNameConf};
use zeroize::Zeroizing;

/// What is loaded in the TPM right now; both are zero between calls when nothing leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedHandles {
    /// Transient objects (handles 0x80xxxxxx).
    pub transient_objects: usize,
    /// Loaded HMAC and policy sessions.
    pub sessions: usize,
}

/// A TPM reached through a TCTI, with the attestation key kept at `ak.handle`.
pub struct EsapiTpm {
    ctx: Context,
    ak: AkConfig,
}

impl std::fmt::Debug for EsapiTpm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsapiTpm")
            .field("ak", &self.ak)
            .finish_non_exhaustive()
    }
}

impl EsapiTpm {
    /// Opens the TPM named by a TCTI string: `device:/dev/tpmrm0` on hardware,
    /// `swtpm:host=127.0.0.1,port=2321` for swtpm.
    pub fn open(tcti: &str, ak: AkConfig) -> Result<Self, TpmError> {
        let open_err = |e: tss_esapi::Error| TpmError::Open {
            tcti: tcti.to_owned(),
            reason: e.to_string(),
        };
        let conf = TctiNameConf::from_str(tcti).map_err(open_err)?;
        let ctx = Context::new(conf).map_err(open_err)?;
        Ok(EsapiTpm { ctx, ak })
    }

    /// The attestation key configuration this device was opened with.
    pub fn ak_config(&self) -> AkConfig {
        self.ak
    }

    /// Counts transient objects and loaded sessions (TPM2_GetCapability HANDLES).
    pub fn loaded_handles(&mut self) -> Result<LoadedHandles, TpmError> {
        Ok(LoadedHandles {
            transient_objects: scope::count_handles(&mut self.ctx, 0x8000_0000, &[0x80])?,
            // TPM_HT_LOADED_SESSION lists HMAC (0x02) and policy (0x03) sessions alike.
            sessions: scope::count_handles(&mut self.ctx, 0x0200_0000, &[0x02, 0x03])?,
        })
    }
}

impl TpmDevice for EsapiTpm {
    fn banks(&mut self) -> Result<Vec<HashAlg>, TpmError> {
        pcr::banks(&mut self.ctx)
    }

    fn endorsement_key(&mut self, kind: EkKind) -> Result<EndorsementKey, TpmError> {
        keys::endorsement_key(&mut self.ctx, kind)
    }

    fn attestation_key(&mut self) -> Result<AttestationKey, TpmError> {
        keys::attestation_key(&mut self.ctx, self.ak)
    }

    fn reset_attestation_key(&mut self) -> Result<(), TpmError> {
        keys::evict_persistent(&mut self.ctx, self.ak.handle)
    }

    fn activate_credential(
        &mut self,
        id_object: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        credential::activate(&mut self.ctx, self.ak, id_object, encrypted_secret)
    }

    fn quote(&mut self, nonce: &[u8], selection: &PcrSelection) -> Result<Quote, TpmError> {
        pcr::quote(&mut self.ctx, self.ak, nonce, selection)
    }

    fn pcr_read(&mut self, selection: &PcrSelection) -> Result<PcrValues, TpmError> {
        pcr::read(&mut self.ctx, selection)
    }

    fn pcr_extend(
        &mut self,
        index: u32,
        digests: &BTreeMap<HashAlg, Vec<u8>>,
    ) -> Result<(), TpmError> {
        pcr::extend(&mut self.ctx, index, digests)
    }

    fn pcr_reset(&mut self, index: u32) -> Result<(), TpmError> {
        pcr::reset(&mut self.ctx, index)
    }

    fn nv_define(&mut self, index: u32, size: u16) -> Result<(), TpmError> {
        nv::define(&mut self.ctx, index, size)
    }

    fn nv_write(&mut self, index: u32, data: &[u8]) -> Result<(), TpmError> {
        nv::write(&mut self.ctx, index, data)
    }

    fn nv_read(&mut self, index: u32) -> Result<Vec<u8>, TpmError> {
        nv::read(&mut self.ctx, index)
    }

    fn nv_undefine(&mut self, index: u32) -> Result<(), TpmError> {
        nv::undefine(&mut self.ctx, index)
    }

    fn create_binding_key(&mut self) -> Result<BindingKey, TpmError> {
        credential::create_binding_key(&mut self.ctx)
    }

    fn certify_binding_key(
        &mut self,
        key: &BindingKey,
        nonce: &[u8],
    ) -> Result<Certification, TpmError> {
        credential::certify_binding_key(&mut self.ctx, self.ak, key, nonce)
    }

    fn unbind(
        &mut self,
        key: &BindingKey,
        ciphertext: &[u8],
        label: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, TpmError> {
        credential::unbind(&mut self.ctx, key, ciphertext, label)
    }
}
