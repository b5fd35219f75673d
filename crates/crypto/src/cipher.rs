use crate::CryptoError;
use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128,
    AES_256,
};

fn key_for(key: &[u8]) -> Result<UnboundCipherKey, CryptoError> {
    let alg = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => return Err(CryptoError::Unsupported("AES key must be 128 or 256 bits")),
    };
    UnboundCipherKey::new(alg, key).map_err(|_| CryptoError::BadKey)
}

/// AES-CFB128 encryption with an explicit IV. TPM 2.0 protects credential blobs and
/// duplicated objects this way (TPM 2.0 Part 1, 11.4.10 and 24.4).
pub fn aes_cfb_encrypt(key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
    let k = EncryptingKey::cfb128(key_for(key)?).map_err(|_| CryptoError::BadKey)?;
    k.less_safe_encrypt(data, EncryptionContext::Iv128((*iv).into()))
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(())
}

/// AES-CFB128 decryption, the inverse of [`aes_cfb_encrypt`].
pub fn aes_cfb_decrypt(key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
    let k = DecryptingKey::cfb128(key_for(key)?).map_err(|_| CryptoError::BadKey)?;
    k.decrypt(data, DecryptionContext::Iv128((*iv).into()))
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfb_matches_nist_sp800_38a_f3_13() {
        // SP 800-38A F.3.13, CFB128-AES128.Encrypt, first block.
        let key = hex16("2b7e151628aed2a6abf7158809cf4f3c");
        let iv = hex16("000102030405060708090a0b0c0d0e0f");
        let mut block = hex16("6bc1bee22e409f96e93d7e117393172a");
        aes_cfb_encrypt(&key, &iv, &mut block).unwrap();
        assert_eq!(block, hex16("3b3fd92eb72dad20333449f8e83cfb4a"));
        aes_cfb_decrypt(&key, &iv, &mut block).unwrap();
        assert_eq!(block, hex16("6bc1bee22e409f96e93d7e117393172a"));
    }

    fn hex16(s: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }
}
