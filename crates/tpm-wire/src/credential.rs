//! TPM2_MakeCredential in software (TPM 2.0 Part 1 §24): a secret that only the TPM holding
//! `ek` can recover, and only for an object whose Name is `object_name` loaded beside it.
//! This is how a verifier learns that an AK lives in the same TPM as an EK.

use crate::alg;
use crate::kdf::{kdfa, kdfe};
use crate::public::{marshal_ecc_point, TpmPublic, MAX_NAME};
use crate::wire::{tpm2b, WireError, Writer};
use ironroot_crypto::{aes_cfb_encrypt, ecdh_ephemeral, hmac, random_bytes, CryptoError, HashAlg};
use zeroize::Zeroizing;

/// Largest credential accepted. TPM2B_DIGEST allows 64, but a TPM refuses a credential
/// longer than its EK's name digest; 32 fits every EK template.
pub const MAX_CREDENTIAL: usize = 32;
/// Magic and version of the file `tpm2_makecredential -o` writes and
/// `tpm2_activatecredential -i` reads.
const TPM2_TOOLS_CREDENTIAL_MAGIC: u32 = 0xBADC_C0DE;
const TPM2_TOOLS_CREDENTIAL_VERSION: u32 = 1;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("the endorsement key is not a restricted decryption key")]
    NotRestrictedDecryptionKey,
    #[error("the endorsement key does not protect with AES-CFB of 128 or 256 bits")]
    UnsupportedSymmetric,
    #[error("the endorsement key's type or curve is not supported")]
    UnsupportedKey,
    #[error("credential must be 1 to 32 bytes")]
    CredentialSize,
    #[error("object name must be 1 to 66 bytes")]
    ObjectNameSize,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// The two blobs TPM2_ActivateCredential takes, each with its u16 size prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeCredential {
    /// TPM2B_ID_OBJECT.
    pub id_object: Vec<u8>,
    /// TPM2B_ENCRYPTED_SECRET.
    pub encrypted_secret: Vec<u8>,
}

impl MadeCredential {
    /// Both blobs in the file format of tpm2-tools (`tpm2_activatecredential -i`).
    pub fn to_tpm2_tools_file(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u32(TPM2_TOOLS_CREDENTIAL_MAGIC)
            .u32(TPM2_TOOLS_CREDENTIAL_VERSION)
            .bytes(&self.id_object)
            .bytes(&self.encrypted_secret);
        w.into_bytes()
    }
}

/// Wraps `credential` for the TPM that holds `ek`, bound to the object named `object_name`.
pub fn make_credential(
    ek: &TpmPublic,
    object_name: &[u8],
    credential: &[u8],
) -> Result<MadeCredential, CredentialError> {
    if !ek.is_restricted_decryption_key() {
        return Err(CredentialError::NotRestrictedDecryptionKey);
    }
    let sym_bits = match ek.symmetric() {
        Some(s)
            if s.algorithm == alg::AES && s.mode == alg::CFB && matches!(s.key_bits, 128 | 256) =>
        {
            s.key_bits
        }
        _ => return Err(CredentialError::UnsupportedSymmetric),
    };
    if credential.is_empty() || credential.len() > MAX_CREDENTIAL {
        return Err(CredentialError::CredentialSize);
    }
    if object_name.is_empty() || object_name.len() > MAX_NAME {
        return Err(CredentialError::ObjectNameSize);
    }
    let name_alg = ek.name_alg();
    let (seed, encrypted_secret) = seed_for(ek)?;
    let id_object = seal(name_alg, &seed, sym_bits, object_name, credential)?;
    Ok(MadeCredential {
        id_object,
        encrypted_secret,
    })
}

/// A fresh seed and its encryption to the EK (Part 1 §24.4 with Annex B.10 / C.6).
fn seed_for(ek: &TpmPublic) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CredentialError> {
    let name_alg = ek.name_alg();
    if let Some(rsa) = ek.rsa_key() {
        let seed = Zeroizing::new(random_bytes(name_alg.len())?);
        // The OAEP label is "IDENTITY" with its terminating NUL.
        let encrypted = rsa.encrypt_oaep(name_alg, b"IDENTITY\0", &seed)?;
        return Ok((seed, tpm2b(&encrypted, "TPM2B_ENCRYPTED_SECRET")?));
    }
    if let Some(ecc) = ek.ecc_key() {
        let agreement = ecdh_ephemeral(&ecc)?;
        let bits = digest_bits(name_alg);
        let seed = kdfe(
            name_alg,
            &agreement.z,
            b"IDENTITY",
            &agreement.ephemeral.x,
            &ecc.x,
            bits,
        );
        let point = marshal_ecc_point(&agreement.ephemeral.x, &agreement.ephemeral.y)?;
        return Ok((seed, tpm2b(&point, "TPM2B_ENCRYPTED_SECRET")?));
    }
    Err(CredentialError::UnsupportedKey)
}

/// Builds TPM2B_ID_OBJECT from the seed: the encrypted credential and its outer HMAC.
fn seal(
    name_alg: HashAlg,
    seed: &[u8],
    sym_bits: u16,
    object_name: &[u8],
    credential: &[u8],
) -> Result<Vec<u8>, CredentialError> {
    let sym_key = kdfa(
        name_alg,
        seed,
        b"STORAGE",
        object_name,
        b"",
        u32::from(sym_bits),
    );
    let mut enc_identity = Zeroizing::new(tpm2b(credential, "credential")?);
    aes_cfb_encrypt(&sym_key, &[0u8; 16], &mut enc_identity)?;
    let hmac_key = kdfa(
        name_alg,
        seed,
        b"INTEGRITY",
        b"",
        b"",
        digest_bits(name_alg),
    );
    let mut hmac_input = enc_identity.to_vec();
    hmac_input.extend_from_slice(object_name);
    let outer_hmac = hmac(name_alg, &hmac_key, &hmac_input);
    let mut id = Writer::new();
    id.tpm2b(&outer_hmac, "integrityHMAC")?.bytes(&enc_identity);
    Ok(tpm2b(&id.into_bytes(), "TPM2B_ID_OBJECT")?)
}

fn digest_bits(alg: HashAlg) -> u32 {
    // Digest lengths are at most 64 bytes, so this cannot overflow.
    u32::try_from(alg.len() * 8).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "credential_tests.rs"]
mod tests;
