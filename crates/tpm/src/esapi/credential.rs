//! Operations that prove or use keys bound to this TPM: credential activation,
//! binding keys, certification and unbinding.

use super::keys::{binding_key_template, create_under_ek};
use super::marshal::{public_from_tpm2b, public_to_tpm2b, tpm2b, tpm2b_body};
use super::scope::{authorised, with_ek, with_ek_policy, with_flushed, with_persistent};
use crate::{AkConfig, BindingKey, Certification, EkKind, TpmError};
use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Data, EncryptedSecret, HashScheme, IdObject, Private, PublicKeyRsa, RsaDecryptionScheme,
    SignatureScheme,
};
use tss_esapi::traits::Marshall;
use tss_esapi::Context;
use zeroize::Zeroizing;

/// TPM2_ActivateCredential: the TPM releases the secret only if the credential was
/// made for this AK's Name and encrypted to this TPM's RSA EK.
pub(super) fn activate(
    ctx: &mut Context,
    ak: AkConfig,
    id_object: &[u8],
    encrypted_secret: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let id_object = IdObject::try_from(tpm2b_body("TPM2B_ID_OBJECT", id_object)?)
        .map_err(TpmError::malformed("TPM2B_ID_OBJECT"))?;
    let secret = EncryptedSecret::try_from(tpm2b_body("TPM2B_ENCRYPTED_SECRET", encrypted_secret)?)
        .map_err(TpmError::malformed("TPM2B_ENCRYPTED_SECRET"))?;
    let digest = with_persistent(ctx, ak.handle, |ctx, ak_object| {
        with_ek(ctx, EkKind::Rsa2048, |ctx, ek| {
            with_ek_policy(ctx, |ctx, policy| {
                // Session 1 authorises the AK (activateHandle), session 2 the EK (keyHandle).
                authorised(ctx, (Some(AuthSession::Password), Some(policy)), |ctx| {
                    ctx.activate_credential(ak_object.into(), ek, id_object, secret)
                })
                .map_err(TpmError::command("ActivateCredential"))
            })
        })
    })?;
    Ok(Zeroizing::new(digest.value().to_vec()))
}

pub(super) fn create_binding_key(ctx: &mut Context) -> Result<BindingKey, TpmError> {
    let template = binding_key_template()?;
    let (private, public) = with_ek(ctx, EkKind::Rsa2048, |ctx, ek| {
        create_under_ek(ctx, ek, template)
    })?;
    Ok(BindingKey {
        public: public_to_tpm2b(&public)?,
        private: tpm2b(private.value())?,
    })
}

/// Loads `key` under the EK, flushes the EK (a loaded child no longer needs its
/// parent), runs `f` with the key and flushes it. At most two objects are loaded at once.
fn with_binding_key<T>(
    ctx: &mut Context,
    key: &BindingKey,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let public = public_from_tpm2b(&key.public)?;
    let private = Private::try_from(tpm2b_body("TPM2B_PRIVATE", &key.private)?)
        .map_err(TpmError::malformed("TPM2B_PRIVATE"))?;
    let loaded = with_ek(ctx, EkKind::Rsa2048, |ctx, ek| {
        with_ek_policy(ctx, |ctx, policy| {
            authorised(ctx, (Some(policy), None), |ctx| {
                ctx.load(ek, private, public)
            })
            .map_err(TpmError::command("Load"))
        })
    })?;
    with_flushed(ctx, loaded.into(), |ctx| f(ctx, loaded))
}

pub(super) fn certify_binding_key(
    ctx: &mut Context,
    ak: AkConfig,
    key: &BindingKey,
    nonce: &[u8],
) -> Result<Certification, TpmError> {
    let qualifying =
        Data::try_from(nonce.to_vec()).map_err(TpmError::malformed("certify nonce"))?;
    let (attest, signature) = with_binding_key(ctx, key, |ctx, bound| {
        with_persistent(ctx, ak.handle, |ctx, ak_object| {
            authorised(
                ctx,
                (Some(AuthSession::Password), Some(AuthSession::Password)),
                |ctx| {
                    ctx.certify(
                        bound.into(),
                        ak_object.into(),
                        qualifying,
                        SignatureScheme::Null,
                    )
                },
            )
            .map_err(TpmError::command("Certify"))
        })
    })?;
    Ok(Certification {
        attest: attest
            .marshall()
            .map_err(TpmError::malformed("TPMS_ATTEST"))?,
        signature: signature
            .marshall()
            .map_err(TpmError::malformed("TPMT_SIGNATURE"))?,
    })
}

/// TPM2_RSA_Decrypt with OAEP-SHA256 and `label`.
pub(super) fn unbind(
    ctx: &mut Context,
    key: &BindingKey,
    ciphertext: &[u8],
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let ciphertext = PublicKeyRsa::try_from(ciphertext.to_vec())
        .map_err(TpmError::malformed("RSA ciphertext"))?;
    let label = Data::try_from(label.to_vec()).map_err(TpmError::malformed("OAEP label"))?;
    let plain = with_binding_key(ctx, key, |ctx, bound| {
        authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
            ctx.rsa_decrypt(
                bound,
                ciphertext,
                RsaDecryptionScheme::Oaep(HashScheme::new(HashingAlgorithm::Sha256)),
                label,
            )
        })
        .map_err(TpmError::command("RSA_Decrypt"))
    })?;
    Ok(Zeroizing::new(plain.value().to_vec()))
}
