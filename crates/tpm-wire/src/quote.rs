//! Quote and certify verification. [`VerifiedQuote`] and [`VerifiedCertify`] have no public
//! constructor and no `Deserialize`: holding one proves that every check below passed.

use crate::alg;
use crate::attest::{
    Attest, Attested, ClockInfo, PcrSelection, TPM_ST_ATTEST_CERTIFY, TPM_ST_ATTEST_QUOTE,
};
use crate::public::TpmPublic;
use crate::signature::Signature;
use crate::wire::WireError;
use crate::{Digest, PcrValues};
use ironroot_crypto::{constant_time_eq, HashAlg, Hasher};
use serde::Serialize;

/// Why a quote or certification was refused. One variant per check, so a caller can tell
/// a replay (nonce) from tampering (signature) from a changed machine (PCR digest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuoteError {
    #[error("the expected nonce is empty, so the quote could be a replay")]
    EmptyNonce,
    #[error("the attestation key is not a restricted, fixed, TPM-generated signing key")]
    NotRestrictedSigningKey,
    #[error("malformed attestation: {0}")]
    Attest(WireError),
    #[error("attestation type {found:#06x} is not the expected {expected:#06x}")]
    WrongType { expected: u16, found: u16 },
    #[error("malformed signature: {0}")]
    Signature(WireError),
    #[error("signature scheme {found_scheme:#06x}/{found_hash:#06x} differs from the key's {key_scheme:#06x}/{key_hash:#06x}")]
    SchemeMismatch {
        key_scheme: u16,
        key_hash: u16,
        found_scheme: u16,
        found_hash: u16,
    },
    #[error("signature does not verify with the attestation key")]
    BadSignature,
    #[error("extraData does not match the expected nonce")]
    NonceMismatch,
    #[error("qualifiedSigner is not the expected attestation key")]
    QualifiedSignerMismatch,
    #[error("no value for selected PCR {bank}:{index}")]
    MissingPcrValue { bank: HashAlg, index: u32 },
    #[error("the PCR values do not hash to the quoted PCR digest")]
    PcrDigestMismatch,
    #[error("the certified name is not the name of the given public area")]
    CertifiedNameMismatch,
}

/// A quote whose signature, nonce, signer and PCR digest were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedQuote {
    clock_info: ClockInfo,
    firmware_version: u64,
    selection: PcrSelection,
    pcrs: PcrValues,
    nonce: Digest,
    qualified_signer: Digest,
}

impl VerifiedQuote {
    pub fn clock_info(&self) -> ClockInfo {
        self.clock_info
    }
    pub fn firmware_version(&self) -> u64 {
        self.firmware_version
    }
    pub fn selection(&self) -> &PcrSelection {
        &self.selection
    }
    /// Only the selected PCRs: the values this quote proves.
    pub fn pcrs(&self) -> &PcrValues {
        &self.pcrs
    }
    pub fn nonce(&self) -> &[u8] {
        &self.nonce.0
    }
    pub fn qualified_signer(&self) -> &[u8] {
        &self.qualified_signer.0
    }
}

/// A TPM2_Certify result: the AK's TPM vouches that `certified` is loaded in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertify {
    clock_info: ClockInfo,
    firmware_version: u64,
    nonce: Vec<u8>,
    qualified_name: Vec<u8>,
    certified: TpmPublic,
}

impl VerifiedCertify {
    pub fn clock_info(&self) -> ClockInfo {
        self.clock_info
    }
    pub fn firmware_version(&self) -> u64 {
        self.firmware_version
    }
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }
    /// The certified object's Qualified Name as the TPM reported it.
    pub fn qualified_name(&self) -> &[u8] {
        &self.qualified_name
    }
    /// The public area whose Name the TPM certified.
    pub fn certified(&self) -> &TpmPublic {
        &self.certified
    }
}

/// Verifies a TPM2_Quote made by `ak` against a nonce and claimed PCR values.
pub fn verify_quote(
    ak: &TpmPublic,
    expected_qualified_signer: Option<&[u8]>,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    expected_nonce: &[u8],
    pcrs: &PcrValues,
) -> Result<VerifiedQuote, QuoteError> {
    let (attest, sig) = verify_signed(
        ak,
        TPM_ST_ATTEST_QUOTE,
        attest_bytes,
        signature_bytes,
        expected_nonce,
    )?;
    if let Some(expected) = expected_qualified_signer {
        if !constant_time_eq(&attest.qualified_signer, expected) {
            return Err(QuoteError::QualifiedSignerMismatch);
        }
    }
    let Attested::Quote {
        selection,
        pcr_digest,
    } = attest.attested
    else {
        return Err(QuoteError::WrongType {
            expected: TPM_ST_ATTEST_QUOTE,
            found: TPM_ST_ATTEST_CERTIFY,
        });
    };
    let proven = selected_values(&selection, pcrs)?;
    if !constant_time_eq(&pcr_digest, &pcr_composite(&selection, &proven, sig.hash())) {
        return Err(QuoteError::PcrDigestMismatch);
    }
    Ok(VerifiedQuote {
        clock_info: attest.clock_info,
        firmware_version: attest.firmware_version,
        selection,
        pcrs: proven,
        nonce: Digest(attest.extra_data),
        qualified_signer: Digest(attest.qualified_signer),
    })
}

/// Verifies a TPM2_Certify by `ak` of the object whose public area is `certified`.
pub fn verify_certify(
    ak: &TpmPublic,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    expected_nonce: &[u8],
    certified: &TpmPublic,
) -> Result<VerifiedCertify, QuoteError> {
    let (attest, _) = verify_signed(
        ak,
        TPM_ST_ATTEST_CERTIFY,
        attest_bytes,
        signature_bytes,
        expected_nonce,
    )?;
    let Attested::Certify {
        name,
        qualified_name,
    } = attest.attested
    else {
        return Err(QuoteError::WrongType {
            expected: TPM_ST_ATTEST_CERTIFY,
            found: TPM_ST_ATTEST_QUOTE,
        });
    };
    if !constant_time_eq(&name, &certified.name()) {
        return Err(QuoteError::CertifiedNameMismatch);
    }
    Ok(VerifiedCertify {
        clock_info: attest.clock_info,
        firmware_version: attest.firmware_version,
        nonce: attest.extra_data,
        qualified_name,
        certified: certified.clone(),
    })
}

/// The checks quote and certify share, in the order that reports the most specific error.
fn verify_signed(
    ak: &TpmPublic,
    expected_type: u16,
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    expected_nonce: &[u8],
) -> Result<(Attest, Signature), QuoteError> {
    // An empty nonce would accept a quote made at any time: fail closed.
    if expected_nonce.is_empty() {
        return Err(QuoteError::EmptyNonce);
    }
    if !ak.is_restricted_signing_key() {
        return Err(QuoteError::NotRestrictedSigningKey);
    }
    let attest = Attest::parse(attest_bytes).map_err(|e| match e {
        WireError::UnexpectedType(found) => QuoteError::WrongType {
            expected: expected_type,
            found,
        },
        other => QuoteError::Attest(other),
    })?;
    if attest.attest_type() != expected_type {
        return Err(QuoteError::WrongType {
            expected: expected_type,
            found: attest.attest_type(),
        });
    }
    let sig = Signature::parse(signature_bytes).map_err(QuoteError::Signature)?;
    check_scheme(ak, &sig)?;
    check_signature(ak, &sig, attest_bytes)?;
    if !constant_time_eq(&attest.extra_data, expected_nonce) {
        return Err(QuoteError::NonceMismatch);
    }
    Ok((attest, sig))
}

/// A restricted key with a scheme signs only with that scheme; anything else is forged.
fn check_scheme(ak: &TpmPublic, sig: &Signature) -> Result<(), QuoteError> {
    let key = ak.scheme();
    let found_hash = alg::hash_to_tpm(sig.hash());
    if key.scheme != alg::NULL && (key.scheme != sig.sig_alg() || key.hash_alg != found_hash) {
        return Err(QuoteError::SchemeMismatch {
            key_scheme: key.scheme,
            key_hash: key.hash_alg,
            found_scheme: sig.sig_alg(),
            found_hash,
        });
    }
    Ok(())
}

fn check_signature(ak: &TpmPublic, sig: &Signature, message: &[u8]) -> Result<(), QuoteError> {
    let verified = match sig {
        Signature::RsaSsa { hash, sig } => {
            ak.rsa_key().map(|k| k.verify_pkcs1(*hash, message, sig))
        }
        Signature::RsaPss { hash, sig } => ak.rsa_key().map(|k| k.verify_pss(*hash, message, sig)),
        Signature::Ecdsa { hash, r, s } => {
            ak.ecc_key().map(|k| k.verify_ecdsa(*hash, message, r, s))
        }
    };
    match verified {
        Some(Ok(())) => Ok(()),
        _ => Err(QuoteError::BadSignature),
    }
}

/// The claimed values of exactly the selected PCRs.
fn selected_values(selection: &PcrSelection, pcrs: &PcrValues) -> Result<PcrValues, QuoteError> {
    let mut out = PcrValues::default();
    for (bank, indices) in &selection.0 {
        for &index in indices {
            let value = pcrs
                .get(*bank, index)
                .ok_or(QuoteError::MissingPcrValue { bank: *bank, index })?;
            out.set(*bank, index, value.0.clone());
        }
    }
    Ok(out)
}

/// TPM2_Quote's pcrDigest: the hash (with the signing hash) of the selected values,
/// bank by bank in selection order, indices ascending (Part 3 §18.4).
fn pcr_composite(selection: &PcrSelection, values: &PcrValues, hash: HashAlg) -> Vec<u8> {
    let mut h = Hasher::new(hash);
    for (bank, indices) in &selection.0 {
        for &index in indices {
            if let Some(v) = values.get(*bank, index) {
                h.update(&v.0);
            }
        }
    }
    h.finish()
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;
