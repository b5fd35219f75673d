//! TPM_ALG_ID values (TPM 2.0 Part 2 §6.3, TCG Algorithm Registry) and their mapping
//! to the hash algorithms ironroot-crypto implements.

use crate::WireError;
use ironroot_crypto::HashAlg;

pub const RSA: u16 = 0x0001;
pub const SHA1: u16 = 0x0004;
pub const HMAC: u16 = 0x0005;
pub const AES: u16 = 0x0006;
pub const KEYEDHASH: u16 = 0x0008;
pub const XOR: u16 = 0x000A;
pub const SHA256: u16 = 0x000B;
pub const SHA384: u16 = 0x000C;
pub const SHA512: u16 = 0x000D;
pub const NULL: u16 = 0x0010;
pub const RSASSA: u16 = 0x0014;
pub const RSAES: u16 = 0x0015;
pub const RSAPSS: u16 = 0x0016;
pub const OAEP: u16 = 0x0017;
pub const ECDSA: u16 = 0x0018;
pub const ECDH: u16 = 0x0019;
pub const ECC: u16 = 0x0023;
pub const SYMCIPHER: u16 = 0x0025;
pub const CFB: u16 = 0x0043;

/// TPM_ECC_CURVE values for the curves ironroot-crypto supports.
pub const ECC_NIST_P256: u16 = 0x0003;
pub const ECC_NIST_P384: u16 = 0x0004;

/// The hash a TPM_ALG_ID names, or `UnsupportedAlgorithm` for anything else.
pub fn hash_from_tpm(id: u16) -> Result<HashAlg, WireError> {
    match id {
        SHA1 => Ok(HashAlg::Sha1),
        SHA256 => Ok(HashAlg::Sha256),
        SHA384 => Ok(HashAlg::Sha384),
        SHA512 => Ok(HashAlg::Sha512),
        other => Err(WireError::UnsupportedAlgorithm(other)),
    }
}

/// The TPM_ALG_ID of a hash.
pub const fn hash_to_tpm(alg: HashAlg) -> u16 {
    match alg {
        HashAlg::Sha1 => SHA1,
        HashAlg::Sha256 => SHA256,
        HashAlg::Sha384 => SHA384,
        HashAlg::Sha512 => SHA512,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ids_round_trip_and_others_are_unsupported() {
        for alg in HashAlg::ALL {
            assert_eq!(hash_from_tpm(hash_to_tpm(alg)), Ok(alg));
        }
        assert_eq!(
            hash_from_tpm(NULL),
            Err(WireError::UnsupportedAlgorithm(NULL))
        );
        assert_eq!(
            hash_from_tpm(RSA),
            Err(WireError::UnsupportedAlgorithm(RSA))
        );
    }
}
