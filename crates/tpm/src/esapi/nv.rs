//! Ordinary NV indices authorised by the owner hierarchy, and reading EK certificates.

use super::scope::authorised;
use crate::TpmError;
use tss_esapi::attributes::NvIndexAttributesBuilder;
use tss_esapi::constants::CapabilityType;
use tss_esapi::handles::{NvIndexHandle, NvIndexTpmHandle, ObjectHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::resource_handles::{NvAuth, Provision};
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{CapabilityData, MaxNvBuffer, NvPublicBuilder};
use tss_esapi::Context;

/// Bytes per TPM2_NV_Read/Write. Every TPM's NV buffer holds at least this much
/// (TPM_PT_NV_BUFFER_MAX is 1024 on most), so no capability query is needed.
const CHUNK: usize = 512;

/// Who authorises a read.
#[derive(Clone, Copy)]
enum ReadAuth {
    Owner,
    /// The index's own (empty) authValue, as for manufacturer EK certificate indices.
    Index,
}

fn nv_handle(index: u32) -> Result<NvIndexTpmHandle, TpmError> {
    NvIndexTpmHandle::new(index).map_err(|_| TpmError::NvIndex(index))
}

pub(super) fn define(ctx: &mut Context, index: u32, size: u16) -> Result<(), TpmError> {
    let attributes = NvIndexAttributesBuilder::new()
        .with_owner_write(true)
        .with_owner_read(true)
        .build()
        .map_err(TpmError::command("NV attributes"))?;
    let public = NvPublicBuilder::new()
        .with_nv_index(nv_handle(index)?)
        .with_index_name_algorithm(HashingAlgorithm::Sha256)
        .with_index_attributes(attributes)
        .with_data_area_size(usize::from(size))
        .build()
        .map_err(TpmError::command("NV public"))?;
    let handle = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.nv_define_space(Provision::Owner, None, public)
    })
    .map_err(TpmError::command("NV_DefineSpace"))?;
    close(ctx, handle.into());
    Ok(())
}

pub(super) fn write(ctx: &mut Context, index: u32, data: &[u8]) -> Result<(), TpmError> {
    with_index(ctx, index, |ctx, handle| {
        for (n, chunk) in data.chunks(CHUNK).enumerate() {
            let offset = u16::try_from(n * CHUNK).map_err(|_| TpmError::NvIndex(index))?;
            let buffer =
                MaxNvBuffer::try_from(chunk.to_vec()).map_err(TpmError::malformed("NV data"))?;
            authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
                ctx.nv_write(NvAuth::Owner, handle, buffer, offset)
            })
            .map_err(TpmError::command("NV_Write"))?;
        }
        Ok(())
    })
}

pub(super) fn read(ctx: &mut Context, index: u32) -> Result<Vec<u8>, TpmError> {
    read_with(ctx, index, ReadAuth::Owner)
}

pub(super) fn undefine(ctx: &mut Context, index: u32) -> Result<(), TpmError> {
    let handle = open(ctx, index)?;
    // On success ESAPI closes the handle itself.
    let result = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.nv_undefine_space(Provision::Owner, handle)
    });
    if result.is_err() {
        close(ctx, handle.into());
    }
    result.map_err(TpmError::command("NV_UndefineSpace"))
}

/// The EK certificate at `index`, or `None` when the manufacturer stored none.
pub(super) fn read_ek_certificate(
    ctx: &mut Context,
    index: u32,
) -> Result<Option<Vec<u8>>, TpmError> {
    if !index_exists(ctx, index)? {
        return Ok(None);
    }
    read_with(ctx, index, ReadAuth::Index).map(Some)
}

fn read_with(ctx: &mut Context, index: u32, auth: ReadAuth) -> Result<Vec<u8>, TpmError> {
    with_index(ctx, index, |ctx, handle| {
        let (public, _) = ctx
            .execute_without_session(|ctx| ctx.nv_read_public(handle))
            .map_err(TpmError::command("NV_ReadPublic"))?;
        let auth = match auth {
            ReadAuth::Owner => NvAuth::Owner,
            ReadAuth::Index => NvAuth::NvIndex(handle),
        };
        let size = public.data_size();
        let mut out = Vec::with_capacity(size);
        while out.len() < size {
            let offset = u16::try_from(out.len()).map_err(|_| TpmError::NvIndex(index))?;
            let want =
                u16::try_from(CHUNK.min(size - out.len())).map_err(|_| TpmError::NvIndex(index))?;
            let chunk = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
                ctx.nv_read(auth, handle, want, offset)
            })
            .map_err(TpmError::command("NV_Read"))?;
            if chunk.is_empty() {
                return Err(TpmError::Command {
                    command: "NV_Read",
                    reason: "TPM returned no data".into(),
                });
            }
            out.extend_from_slice(chunk.value());
        }
        Ok(out)
    })
}

fn with_index<T>(
    ctx: &mut Context,
    index: u32,
    f: impl FnOnce(&mut Context, NvIndexHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let handle = open(ctx, index)?;
    let out = f(ctx, handle);
    close(ctx, handle.into());
    out
}

fn open(ctx: &mut Context, index: u32) -> Result<NvIndexHandle, TpmError> {
    let tpm_handle = TpmHandle::NvIndex(nv_handle(index)?);
    ctx.execute_without_session(|ctx| ctx.tr_from_tpm_public(tpm_handle))
        .map(NvIndexHandle::from)
        .map_err(TpmError::command("NV_ReadPublic"))
}

/// Frees ESAPI's record of an NV index; the index itself is untouched.
fn close(ctx: &mut Context, mut handle: ObjectHandle) {
    if let Err(e) = ctx.tr_close(&mut handle) {
        tracing::debug!(error = %e, "closing ESAPI NV handle");
    }
}

fn index_exists(ctx: &mut Context, index: u32) -> Result<bool, TpmError> {
    let (data, _) = ctx
        .get_capability(CapabilityType::Handles, index, 1)
        .map_err(TpmError::command("GetCapability(HANDLES)"))?;
    Ok(match data {
        CapabilityData::Handles(list) => {
            list.into_inner().into_iter().any(|h| u32::from(h) == index)
        }
        _ => false,
    })
}
