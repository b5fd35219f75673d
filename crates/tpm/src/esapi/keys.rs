//! The endorsement key, the persistent attestation key, and key templates.

use super::marshal::public_to_tpm2b;
use super::scope::{authorised, open_persistent, with_ek, with_ek_policy, with_flushed};
use crate::{AkConfig, AkKind, AttestationKey, EkKind, EndorsementKey, TpmError};
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::handles::{KeyHandle, ObjectHandle, PersistentTpmHandle};
use tss_esapi::interface_types::algorithm::{
    EccSchemeAlgorithm, HashingAlgorithm, PublicAlgorithm, RsaSchemeAlgorithm,
};
use tss_esapi::interface_types::dynamic_handles::Persistent;
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::Provision;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    EccPoint, EccScheme, KeyDerivationFunctionScheme, Public, PublicBuilder,
    PublicEccParametersBuilder, PublicKeyRsa, PublicRsaParametersBuilder, RsaExponent, RsaScheme,
    SymmetricDefinitionObject,
};
use tss_esapi::Context;

/// TCG EK Credential Profile 2.3, section 2.2.1.4/2.2.1.5: where EK certificates live.
fn ek_certificate_index(kind: EkKind) -> u32 {
    match kind {
        EkKind::Rsa2048 => 0x01c0_0002,
        EkKind::EccP256 => 0x01c0_000a,
        EkKind::EccP384 => 0x01c0_0016,
    }
}

pub(super) fn endorsement_key(ctx: &mut Context, kind: EkKind) -> Result<EndorsementKey, TpmError> {
    let public = with_ek(ctx, kind, |ctx, ek| {
        read_public(ctx, ek).map(|(public, _)| public)
    })?;
    let certificate = super::nv::read_ek_certificate(ctx, ek_certificate_index(kind))?;
    Ok(EndorsementKey {
        public: public_to_tpm2b(&public)?,
        certificate,
    })
}

/// Public area and Name of a loaded object. TPM2_ReadPublic needs no authorisation.
pub(super) fn read_public(
    ctx: &mut Context,
    key: KeyHandle,
) -> Result<(Public, Vec<u8>), TpmError> {
    let (public, name, _) = ctx
        .execute_without_session(|ctx| ctx.read_public(key))
        .map_err(TpmError::command("ReadPublic"))?;
    Ok((public, name.value().to_vec()))
}

pub(super) fn attestation_key(
    ctx: &mut Context,
    config: AkConfig,
) -> Result<AttestationKey, TpmError> {
    if let Some(found) = load_persistent_ak(ctx, config)? {
        return Ok(found);
    }
    create_persistent_ak(ctx, config)?;
    tracing::info!(
        handle = format_args!("{:#010x}", config.handle),
        "created attestation key"
    );
    load_persistent_ak(ctx, config)?.ok_or(TpmError::NoAttestationKey(config.handle))
}

/// The AK at the configured handle, after checking it is a key of the configured kind
/// that can only sign TPM-generated data; `None` when the handle is empty.
fn load_persistent_ak(
    ctx: &mut Context,
    config: AkConfig,
) -> Result<Option<AttestationKey>, TpmError> {
    let Some(mut object) = open_persistent(ctx, config.handle)? else {
        return Ok(None);
    };
    let read = read_public(ctx, object.into());
    if let Err(e) = ctx.tr_close(&mut object) {
        tracing::debug!(error = %e, "closing ESAPI object for the AK");
    }
    let (public, name) = read?;
    check_is_ak(&public, config)?;
    Ok(Some(AttestationKey {
        public: public_to_tpm2b(&public)?,
        name,
        handle: config.handle,
    }))
}

fn check_is_ak(public: &Public, config: AkConfig) -> Result<(), TpmError> {
    let mismatch = |why| TpmError::AttestationKeyMismatch {
        handle: config.handle,
        why,
    };
    let attrs = public.object_attributes();
    if !(attrs.restricted()
        && attrs.sign_encrypt()
        && !attrs.decrypt()
        && attrs.fixed_tpm()
        && attrs.fixed_parent())
    {
        return Err(mismatch("not a restricted, fixedTPM signing key"));
    }
    let kind_matches = matches!(
        (public, config.kind),
        (Public::Rsa { .. }, AkKind::Rsa2048) | (Public::Ecc { .. }, AkKind::EccP256)
    );
    if !kind_matches {
        return Err(mismatch(
            "algorithm differs from the configured one; reset the attestation key",
        ));
    }
    Ok(())
}

/// Creates the AK under the RSA EK and makes it persistent. The EK is the parent so
/// that a verifier's MakeCredential to the EK proves the AK lives in the same TPM.
fn create_persistent_ak(ctx: &mut Context, config: AkConfig) -> Result<(), TpmError> {
    let persistent = PersistentTpmHandle::new(config.handle)
        .map_err(TpmError::malformed("persistent handle"))?;
    let template = ak_template(config.kind)?;
    with_ek(ctx, EkKind::Rsa2048, |ctx, ek| {
        let ak = load_under_ek(ctx, ek, template)?;
        with_flushed(ctx, ak.into(), |ctx| {
            let mut stored = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
                ctx.evict_control(
                    Provision::Owner,
                    ak.into(),
                    Persistent::Persistent(persistent),
                )
            })
            .map_err(TpmError::command("EvictControl"))?;
            // The persistent copy stays in the TPM; this frees ESAPI's bookkeeping for it.
            ctx.tr_close(&mut stored)
                .map_err(TpmError::command("Esys_TR_Close"))
        })
    })
}

/// TPM2_Create then TPM2_Load of `template` under the EK; returns the loaded object,
/// which the caller must flush.
pub(super) fn load_under_ek(
    ctx: &mut Context,
    ek: KeyHandle,
    template: Public,
) -> Result<KeyHandle, TpmError> {
    let (private, public) = create_under_ek(ctx, ek, template)?;
    with_ek_policy(ctx, |ctx, session| {
        authorised(ctx, (Some(session), None), |ctx| {
            ctx.load(ek, private, public)
        })
        .map_err(TpmError::command("Load"))
    })
}

pub(super) fn create_under_ek(
    ctx: &mut Context,
    ek: KeyHandle,
    template: Public,
) -> Result<(tss_esapi::structures::Private, Public), TpmError> {
    let created = with_ek_policy(ctx, |ctx, session| {
        authorised(ctx, (Some(session), None), |ctx| {
            ctx.create(ek, template, None, None, None, None)
        })
        .map_err(TpmError::command("Create"))
    })?;
    Ok((created.out_private, created.out_public))
}

/// Evicts whatever key is persisted at `handle`; an empty handle is not an error.
pub(super) fn evict_persistent(ctx: &mut Context, handle: u32) -> Result<(), TpmError> {
    let persistent =
        PersistentTpmHandle::new(handle).map_err(TpmError::malformed("persistent handle"))?;
    let Some(object) = open_persistent(ctx, handle)? else {
        return Ok(());
    };
    let evicted = authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.evict_control(Provision::Owner, object, Persistent::Persistent(persistent))
    });
    // ESAPI keeps its record of an evicted persistent object (tss-esapi only forgets
    // it), and a stale record makes the next Esys_TR_FromTPMPublic for this handle fail
    // with a name mismatch once a new key is stored there. Close it on every path;
    // tss-esapi's complaint that it already forgot the handle is expected.
    let mut object: ObjectHandle = object;
    let _ = ctx.tr_close(&mut object);
    evicted
        .map(|_| ())
        .map_err(TpmError::command("EvictControl"))
}

fn ak_template(kind: AkKind) -> Result<Public, TpmError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_restricted(true)
        .with_sign_encrypt(true)
        .with_decrypt(false)
        .with_user_with_auth(true)
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .build()
        .map_err(TpmError::command("AK template"))?;
    let builder = PublicBuilder::new()
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes);
    let builder = match kind {
        AkKind::Rsa2048 => {
            let scheme =
                RsaScheme::create(RsaSchemeAlgorithm::RsaSsa, Some(HashingAlgorithm::Sha256))
                    .map_err(TpmError::command("AK template"))?;
            let params = PublicRsaParametersBuilder::new()
                .with_scheme(scheme)
                .with_key_bits(RsaKeyBits::Rsa2048)
                .with_exponent(RsaExponent::default())
                .with_symmetric(SymmetricDefinitionObject::Null)
                .with_is_signing_key(true)
                .with_restricted(true)
                .build()
                .map_err(TpmError::command("AK template"))?;
            builder
                .with_public_algorithm(PublicAlgorithm::Rsa)
                .with_rsa_parameters(params)
                .with_rsa_unique_identifier(PublicKeyRsa::default())
        }
        AkKind::EccP256 => {
            let scheme = EccScheme::create(
                EccSchemeAlgorithm::EcDsa,
                Some(HashingAlgorithm::Sha256),
                None,
            )
            .map_err(TpmError::command("AK template"))?;
            let params = PublicEccParametersBuilder::new()
                .with_symmetric(SymmetricDefinitionObject::Null)
                .with_ecc_scheme(scheme)
                .with_curve(EccCurve::NistP256)
                .with_key_derivation_function_scheme(KeyDerivationFunctionScheme::Null)
                .with_is_signing_key(true)
                .with_restricted(true)
                .build()
                .map_err(TpmError::command("AK template"))?;
            builder
                .with_public_algorithm(PublicAlgorithm::Ecc)
                .with_ecc_parameters(params)
                .with_ecc_unique_identifier(EccPoint::default())
        }
    };
    builder.build().map_err(TpmError::command("AK template"))
}

/// RSA-2048, decrypt only, not restricted, OAEP-SHA256 pinned in the public area so a
/// verifier reading the certified public sees that nothing else can use the key.
pub(super) fn binding_key_template() -> Result<Public, TpmError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_decrypt(true)
        .with_sign_encrypt(false)
        .with_restricted(false)
        .build()
        .map_err(TpmError::command("binding key template"))?;
    let scheme = RsaScheme::create(RsaSchemeAlgorithm::Oaep, Some(HashingAlgorithm::Sha256))
        .map_err(TpmError::command("binding key template"))?;
    let params = PublicRsaParametersBuilder::new()
        .with_scheme(scheme)
        .with_key_bits(RsaKeyBits::Rsa2048)
        .with_exponent(RsaExponent::default())
        .with_is_decryption_key(true)
        .with_symmetric(SymmetricDefinitionObject::Null)
        .build()
        .map_err(TpmError::command("binding key template"))?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Rsa)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_rsa_parameters(params)
        .with_rsa_unique_identifier(PublicKeyRsa::default())
        .build()
        .map_err(TpmError::command("binding key template"))
}
