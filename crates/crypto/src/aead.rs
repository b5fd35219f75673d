use crate::CryptoError;
use aws_lc_rs::aead::{
    Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM, NONCE_LEN,
};
use zeroize::Zeroizing;

/// The output of [`aes_gcm_seal`]: a fresh 96-bit IV, the ciphertext and the 128-bit tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcmSealed {
    pub iv: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
    pub tag: [u8; 16],
}

fn gcm_key(key: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let alg = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        _ => {
            return Err(CryptoError::Unsupported(
                "AES-GCM key must be 128, 192 or 256 bits",
            ))
        }
    };
    let unbound = UnboundKey::new(alg, key).map_err(|_| CryptoError::BadKey)?;
    Ok(LessSafeKey::new(unbound))
}

/// AES-GCM encryption with associated data under a random IV chosen here, so a caller
/// cannot reuse one. The key size (16, 24 or 32 bytes) picks AES-128, -192 or -256.
pub fn aes_gcm_seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<GcmSealed, CryptoError> {
    let k = gcm_key(key)?;
    let mut iv = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| CryptoError::Random)?;
    let mut ciphertext = plaintext.to_vec();
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(aad),
            &mut ciphertext,
        )
        .map_err(|_| CryptoError::Encrypt)?;
    let tag: [u8; 16] = tag.as_ref().try_into().map_err(|_| CryptoError::Encrypt)?;
    Ok(GcmSealed {
        iv,
        ciphertext,
        tag,
    })
}

/// AES-GCM decryption; returns the plaintext only if the tag verifies.
pub fn aes_gcm_open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let k = gcm_key(key)?;
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| CryptoError::Decrypt)?;
    if tag.len() != 16 {
        return Err(CryptoError::Decrypt);
    }
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    k.open_in_place_separate_tag(nonce, Aad::from(aad), tag, &mut buf)
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_for_each_key_size() {
        for n in [16usize, 24, 32] {
            let key = vec![9u8; n];
            let s = aes_gcm_seal(&key, b"header", b"secret options").unwrap();
            let pt = aes_gcm_open(&key, &s.iv, b"header", &s.ciphertext, &s.tag).unwrap();
            assert_eq!(pt.as_slice(), b"secret options");
        }
    }

    #[test]
    fn open_fails_on_changed_aad_ciphertext_or_tag() {
        let key = [1u8; 32];
        let s = aes_gcm_seal(&key, b"aad", b"data").unwrap();
        let err = Err(CryptoError::Decrypt);
        assert_eq!(
            aes_gcm_open(&key, &s.iv, b"aaD", &s.ciphertext, &s.tag),
            err
        );
        let mut ct = s.ciphertext.clone();
        ct[0] ^= 1;
        assert_eq!(aes_gcm_open(&key, &s.iv, b"aad", &ct, &s.tag), err);
        assert_eq!(
            aes_gcm_open(&key, &s.iv, b"aad", &s.ciphertext, &s.tag[..15]),
            err
        );
        assert_eq!(
            aes_gcm_open(&key, &s.iv[..11], b"aad", &s.ciphertext, &s.tag),
            err
        );
    }

    #[test]
    fn bad_key_length_is_unsupported() {
        assert!(matches!(
            aes_gcm_seal(&[0u8; 20], b"", b""),
            Err(CryptoError::Unsupported(_))
        ));
    }
}
