use crate::CryptoError;
use aws_lc_rs::key_wrap::{AesKek, KeyWrap, AES_128, AES_256};
use zeroize::Zeroizing;

fn kek(key: &[u8]) -> Result<AesKek, CryptoError> {
    let cipher = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        // aws-lc-rs offers no AES-192 key wrap, so JWE's A192KW is not available.
        _ => {
            return Err(CryptoError::Unsupported(
                "AES key wrap needs a 128 or 256 bit KEK",
            ))
        }
    };
    AesKek::new(cipher, key).map_err(|_| CryptoError::BadKey)
}

/// AES key wrap (RFC 3394, NIST SP 800-38F KW) of `key` under `kek_bytes`.
pub fn aes_key_wrap(kek_bytes: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; key.len() + 8];
    let len = kek(kek_bytes)?
        .wrap(key, &mut out)
        .map_err(|_| CryptoError::Encrypt)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Reverses [`aes_key_wrap`], failing unless the RFC 3394 integrity check value matches.
pub fn aes_key_unwrap(kek_bytes: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // Shorter than two 64-bit blocks plus the check value is never a wrapped key; other
    // malformed lengths are refused by aws-lc.
    if wrapped.len() < 24 {
        return Err(CryptoError::Decrypt);
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek(kek_bytes)?
        .unwrap(wrapped, &mut out)
        .map_err(|_| CryptoError::Decrypt)?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn rfc3394_4_1_and_4_6() {
        let kek128 = hex("000102030405060708090A0B0C0D0E0F");
        let key = hex("00112233445566778899AABBCCDDEEFF");
        let want = hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5");
        assert_eq!(aes_key_wrap(&kek128, &key).unwrap(), want);
        assert_eq!(aes_key_unwrap(&kek128, &want).unwrap().as_slice(), key);

        let kek256 = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
        let key = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
        let want =
            hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21");
        assert_eq!(aes_key_wrap(&kek256, &key).unwrap(), want);
        assert_eq!(aes_key_unwrap(&kek256, &want).unwrap().as_slice(), key);
    }

    #[test]
    fn unwrap_rejects_tampering_and_bad_sizes() {
        let kek = [3u8; 32];
        let mut w = aes_key_wrap(&kek, &[5u8; 32]).unwrap();
        w[4] ^= 1;
        assert_eq!(aes_key_unwrap(&kek, &w), Err(CryptoError::Decrypt));
        assert_eq!(aes_key_unwrap(&kek, &[0u8; 17]), Err(CryptoError::Decrypt));
        assert_eq!(aes_key_unwrap(&kek, &[0u8; 41]), Err(CryptoError::Decrypt));
        assert!(matches!(
            aes_key_wrap(&[0u8; 24], &[0u8; 16]),
            Err(CryptoError::Unsupported(_))
        ));
    }
}
