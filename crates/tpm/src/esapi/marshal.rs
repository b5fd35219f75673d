//! Conversions between tss-esapi types and the byte forms that cross the wire.

use crate::TpmError;
use ironroot_crypto::HashAlg;
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::structures::Public;
use tss_esapi::traits::{Marshall, UnMarshall};

pub(super) fn hashing_algorithm(alg: HashAlg) -> HashingAlgorithm {
    match alg {
        HashAlg::Sha1 => HashingAlgorithm::Sha1,
        HashAlg::Sha256 => HashingAlgorithm::Sha256,
        HashAlg::Sha384 => HashingAlgorithm::Sha384,
        HashAlg::Sha512 => HashingAlgorithm::Sha512,
    }
}

/// The ironroot name of a TPM hash algorithm, or `None` for banks ironroot does not
/// use (SM3, SHA3).
pub(super) fn hash_alg(alg: HashingAlgorithm) -> Option<HashAlg> {
    match alg {
        HashingAlgorithm::Sha1 => Some(HashAlg::Sha1),
        HashingAlgorithm::Sha256 => Some(HashAlg::Sha256),
        HashingAlgorithm::Sha384 => Some(HashAlg::Sha384),
        HashingAlgorithm::Sha512 => Some(HashAlg::Sha512),
        _ => None,
    }
}

/// Prefixes `body` with its big-endian u16 length, the TPM2B form.
pub(super) fn tpm2b(body: &[u8]) -> Result<Vec<u8>, TpmError> {
    let len = u16::try_from(body.len()).map_err(|_| TpmError::Malformed {
        what: "TPM2B buffer",
        why: "longer than 65535 bytes".into(),
    })?;
    let mut out = Vec::with_capacity(body.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

/// The body of a TPM2B, checking that the size prefix matches the bytes given exactly.
pub(super) fn tpm2b_body<'a>(what: &'static str, bytes: &'a [u8]) -> Result<&'a [u8], TpmError> {
    let (size, body) = bytes.split_first_chunk::<2>().ok_or(TpmError::Malformed {
        what,
        why: "shorter than its size field".into(),
    })?;
    let size = usize::from(u16::from_be_bytes(*size));
    if size != body.len() {
        return Err(TpmError::Malformed {
            what,
            why: format!("size field says {size}, {} bytes follow", body.len()),
        });
    }
    Ok(body)
}

/// Marshalled TPM2B_PUBLIC.
pub(super) fn public_to_tpm2b(public: &Public) -> Result<Vec<u8>, TpmError> {
    tpm2b(
        &public
            .marshall()
            .map_err(TpmError::malformed("TPMT_PUBLIC"))?,
    )
}

pub(super) fn public_from_tpm2b(bytes: &[u8]) -> Result<Public, TpmError> {
    Public::unmarshall(tpm2b_body("TPM2B_PUBLIC", bytes)?)
        .map_err(TpmError::malformed("TPM2B_PUBLIC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpm2b_round_trip() {
        let wrapped = tpm2b(b"abc").unwrap();
        assert_eq!(wrapped, [0, 3, b'a', b'b', b'c']);
        assert_eq!(tpm2b_body("x", &wrapped).unwrap(), b"abc");
    }

    #[test]
    fn tpm2b_body_rejects_wrong_size() {
        assert!(tpm2b_body("x", &[0, 4, 1, 2, 3]).is_err());
        assert!(tpm2b_body("x", &[0, 2, 1, 2, 3]).is_err());
        assert!(tpm2b_body("x", &[0]).is_err());
    }

    #[test]
    fn hash_algorithms_round_trip() {
        for alg in HashAlg::ALL {
            assert_eq!(hash_alg(hashing_algorithm(alg)), Some(alg));
        }
        assert_eq!(hash_alg(HashingAlgorithm::Sm3_256), None);
    }
}
