//! The binding key a node asks a key to be wrapped to: an RSA-2048 decrypt-only key made
//! inside the node's TPM, under the EK the host enrolled with, and certified by the
//! host's AK over the release request's nonce. Every claim of its public area that the
//! wrapping relies on is checked against what the TPM certified.

use crate::error::ServiceError;
use crate::store::HostRow;
use ironroot_api::BindingKeyProof;
use ironroot_tpm_wire::{
    hierarchy_qualified_name, qualified_name, verify_certify, Attest, PublicParams, TpmPublic,
    Unique, TPM_RH_ENDORSEMENT,
};

/// The binding key's size: what the agent makes, and what the wrapped key is sealed to.
const KEY_BITS: u16 = 2048;

/// The binding key, once it passed every check: only then may a key be wrapped to it.
pub(super) struct BindingKey {
    pub public: TpmPublic,
    /// The RSA public key the wrapped key is encrypted to.
    pub rsa: ironroot_crypto::RsaPublicKey,
}

/// Checks the proof against `host` and the challenge `nonce`.
pub(super) fn binding_key(
    host: &HostRow,
    proof: &BindingKeyProof,
    nonce: &[u8],
) -> Result<BindingKey, ServiceError> {
    let refuse = |why: &str| ServiceError::Forbidden(format!("binding key refused: {why}"));
    let key = TpmPublic::parse(&proof.public.0)
        .map_err(|e| refuse(&format!("not a TPM2B_PUBLIC ({e})")))?;
    let rsa = check_shape(&key).map_err(refuse)?;
    let ak = TpmPublic::parse(&host.ak_public)
        .map_err(|e| ServiceError::Internal(format!("stored AK: {e}")))?;
    let certified = verify_certify(
        &ak,
        &proof.certify_attest.0,
        &proof.certify_signature.0,
        nonce,
        &key,
    )
    .map_err(|e| {
        refuse(&format!(
            "it is not certified by this node's attestation key over this challenge ({e})"
        ))
    })?;
    // The signature verified, so these are the TPM's words: read the signer's qualified
    // name from them, which `verify_certify` does not return.
    let signer = Attest::parse(&proof.certify_attest.0)
        .map_err(|e| refuse(&format!("its certification does not parse ({e})")))?
        .qualified_signer;
    let ek = TpmPublic::parse(&host.ek_public)
        .map_err(|e| ServiceError::Internal(format!("stored EK: {e}")))?;
    check_lineage(
        &ek,
        &host.ak_qualified_name,
        &key,
        certified.qualified_name(),
        &signer,
    )
    .map_err(refuse)?;
    Ok(BindingKey { public: key, rsa })
}

/// An RSA-2048 decrypt-only key, generated in and never leaving its TPM, whose modulus
/// is the 2048 bits `keyBits` claims: a short modulus under a 2048-bit claim would be
/// a key anyone could factor.
fn check_shape(key: &TpmPublic) -> Result<ironroot_crypto::RsaPublicKey, &'static str> {
    let a = key.attributes();
    if !(a.decrypt()
        && !a.sign()
        && !a.restricted()
        && a.fixed_tpm()
        && a.fixed_parent()
        && a.sensitive_data_origin())
    {
        return Err(
            "it must be a decrypt-only key generated in the TPM with fixedTPM and fixedParent",
        );
    }
    let (
        PublicParams::Rsa {
            key_bits, exponent, ..
        },
        Unique::Rsa { modulus },
    ) = (key.params(), key.unique())
    else {
        return Err("it must be an RSA-2048 key");
    };
    if *key_bits != KEY_BITS {
        return Err("it must be an RSA-2048 key");
    }
    let full_size = modulus.len() == usize::from(KEY_BITS / 8)
        && modulus.first().is_some_and(|b| b & 0x80 != 0)
        && modulus.last().is_some_and(|b| b & 1 == 1);
    if !full_size {
        return Err("its modulus is not the 2048-bit odd number its keyBits claim");
    }
    if !matches!(*exponent, 0 | 65_537) {
        return Err("its public exponent must be the default, 65537");
    }
    Ok(ironroot_crypto::RsaPublicKey::from_tpm(modulus, *exponent))
}

/// The certification names the host's own keys: the signer is the AK the host enrolled
/// (by qualified name, as quotes are checked), and the certified key's qualified name is
/// that of a child of the host's EK, where the agent makes it. A key loaded anywhere
/// else (an external key in the null hierarchy, a child of another parent) is refused.
fn check_lineage(
    ek: &TpmPublic,
    ak_qualified_name: &[u8],
    key: &TpmPublic,
    certified_qualified_name: &[u8],
    signer_qualified_name: &[u8],
) -> Result<(), &'static str> {
    if !ironroot_crypto::constant_time_eq(signer_qualified_name, ak_qualified_name) {
        return Err("it was certified by a key other than this node's enrolled attestation key");
    }
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    let expected = qualified_name(&ek_qn, &key.name(), key.name_alg());
    if !ironroot_crypto::constant_time_eq(certified_qualified_name, &expected) {
        return Err("the TPM certified it under a parent other than this node's endorsement key");
    }
    Ok(())
}

#[cfg(test)]
#[path = "binding_tests.rs"]
mod tests;
