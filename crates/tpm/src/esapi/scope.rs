//! Scopes that load something into the TPM, run a closure, and unload it on every
//! path. Using these instead of bare `create_primary`/`load`/`start_auth_session` is
//! how this crate keeps its promise of no leaked transient handles.

use crate::{EkKind, TpmError};
use tss_esapi::abstraction::{ek, AsymmetricAlgorithmSelection};
use tss_esapi::constants::{CapabilityType, SessionType};
use tss_esapi::handles::{
    AuthHandle, KeyHandle, ObjectHandle, PersistentTpmHandle, SessionHandle, TpmHandle,
};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{CapabilityData, SymmetricDefinition};
use tss_esapi::Context;

/// Runs `f`, then flushes `handle` whatever `f` returned. The first error wins; a flush
/// failure after a failed `f` is logged, since the caller can act on only one error.
pub(super) fn with_flushed<T>(
    ctx: &mut Context,
    handle: ObjectHandle,
    f: impl FnOnce(&mut Context) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let out = f(ctx);
    let flushed = ctx
        .flush_context(handle)
        .map_err(TpmError::command("FlushContext"));
    match (out, flushed) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(flush)) => {
            tracing::warn!(error = %flush, "flushing after a failed TPM command failed too");
            Err(e)
        }
    }
}

/// Runs `f` with a single authorisation session in slot 1 (the others empty).
pub(super) fn authorised<T>(
    ctx: &mut Context,
    sessions: (Option<AuthSession>, Option<AuthSession>),
    f: impl FnOnce(&mut Context) -> T,
) -> T {
    ctx.execute_with_sessions((sessions.0, sessions.1, None), f)
}

/// The EK template selection for a kind.
pub(super) fn ek_selection(kind: EkKind) -> AsymmetricAlgorithmSelection {
    match kind {
        EkKind::Rsa2048 => AsymmetricAlgorithmSelection::Rsa(RsaKeyBits::Rsa2048),
        EkKind::EccP256 => AsymmetricAlgorithmSelection::Ecc(EccCurve::NistP256),
        EkKind::EccP384 => AsymmetricAlgorithmSelection::Ecc(EccCurve::NistP384),
    }
}

/// Derives the EK from the TCG default template (TPM2_CreatePrimary in the endorsement
/// hierarchy, which the TPM answers with the same key every time) and runs `f` with it
/// loaded. The EK is never persisted by this crate.
pub(super) fn with_ek<T>(
    ctx: &mut Context,
    kind: EkKind,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let template = ek::create_ek_public_from_default_template_2(ek_selection(kind), None)
        .map_err(TpmError::command("EK template"))?;
    let created = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.create_primary(Hierarchy::Endorsement, template, None, None, None, None)
    })
    .map_err(TpmError::command("CreatePrimary(EK)"))?;
    let ek = created.key_handle;
    with_flushed(ctx, ek.into(), |ctx| f(ctx, ek))
}

/// Starts a policy session satisfied by PolicySecret(TPM_RH_ENDORSEMENT), which is
/// what the default RSA-2048/P-256 EK policy (policy A, SHA-256) asks for, runs `f`
/// with it and flushes it. The TPM resets a policy after one authorised command, so
/// each command that uses the EK gets its own session.
pub(super) fn with_ek_policy<T>(
    ctx: &mut Context,
    f: impl FnOnce(&mut Context, AuthSession) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let session = ctx
        .start_auth_session(
            None,
            None,
            None,
            SessionType::Policy,
            SymmetricDefinition::Null,
            HashingAlgorithm::Sha256,
        )
        .map_err(TpmError::command("StartAuthSession"))?
        .ok_or(TpmError::Command {
            command: "StartAuthSession",
            reason: "no session handle".into(),
        })?;
    with_flushed(ctx, SessionHandle::from(session).into(), |ctx| {
        let policy = PolicySession::try_from(session).map_err(TpmError::command("PolicySecret"))?;
        authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
            ctx.policy_secret(
                policy,
                AuthHandle::Endorsement,
                Default::default(),
                Default::default(),
                Default::default(),
                None,
            )
        })
        .map_err(TpmError::command("PolicySecret"))?;
        f(ctx, session)
    })
}

/// Resolves a persistent handle to an ESAPI object, runs `f` and closes the ESAPI
/// object again (this frees library memory only; the TPM object stays).
pub(super) fn with_persistent<T>(
    ctx: &mut Context,
    handle: u32,
    f: impl FnOnce(&mut Context, ObjectHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let object = open_persistent(ctx, handle)?.ok_or(TpmError::NoAttestationKey(handle))?;
    let out = f(ctx, object);
    let mut object = object;
    // Evicting the object already closed it; closing again would fail harmlessly.
    if let Err(e) = ctx.tr_close(&mut object) {
        tracing::debug!(error = %e, "closing ESAPI object for {handle:#010x}");
    }
    out
}

/// The ESAPI object for a persistent handle, or `None` when nothing is stored there.
pub(super) fn open_persistent(
    ctx: &mut Context,
    handle: u32,
) -> Result<Option<ObjectHandle>, TpmError> {
    let tpm_handle = PersistentTpmHandle::new(handle).map_err(|_| TpmError::Malformed {
        what: "persistent handle",
        why: format!("{handle:#010x} is not in 0x81000000..0x81ffffff"),
    })?;
    if !persistent_exists(ctx, handle)? {
        return Ok(None);
    }
    ctx.execute_without_session(|ctx| ctx.tr_from_tpm_public(TpmHandle::Persistent(tpm_handle)))
        .map(Some)
        .map_err(TpmError::command("ReadPublic"))
}

fn persistent_exists(ctx: &mut Context, handle: u32) -> Result<bool, TpmError> {
    let (data, _) = ctx
        .get_capability(CapabilityType::Handles, handle, 1)
        .map_err(TpmError::command("GetCapability(HANDLES)"))?;
    Ok(match data {
        CapabilityData::Handles(list) => list
            .into_inner()
            .into_iter()
            .any(|h| u32::from(h) == handle),
        _ => false,
    })
}

/// Number of handles listed from `first` on whose type (top byte) is in `types`, up to
/// 64: enough to tell zero from some, which is what callers check.
pub(super) fn count_handles(
    ctx: &mut Context,
    first: u32,
    types: &[u32],
) -> Result<usize, TpmError> {
    let (data, _) = ctx
        .get_capability(CapabilityType::Handles, first, 64)
        .map_err(TpmError::command("GetCapability(HANDLES)"))?;
    Ok(match data {
        CapabilityData::Handles(list) => list
            .into_inner()
            .into_iter()
            .filter(|h| types.contains(&(u32::from(*h) >> 24)))
            .count(),
        _ => 0,
    })
}
