//! Ed25519 private keys as their raw 32-byte seed (RFC 8032 §5.1.5), the form that C2SP
//! signed-note signer keys (`PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`) carry.
//!
//! aws-lc-rs loads Ed25519 keys from PKCS#8, so the seed is wrapped in the fixed RFC 8410
//! PKCS#8 v1 prefix rather than adding a second Ed25519 implementation. Every buffer holding
//! the seed is zeroized.

use crate::{CryptoError, Ed25519SigningKey, ED25519_KEY_LEN};
use zeroize::Zeroizing;

/// DER of `OneAsymmetricKey { version 0, id-Ed25519, OCTET STRING { OCTET STRING seed } }`
/// up to the seed (RFC 8410 §7, the example there).
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The key whose RFC 8032 seed is `seed` (32 bytes).
pub fn from_seed(seed: &[u8]) -> Result<Ed25519SigningKey, CryptoError> {
    if seed.len() != ED25519_KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    let mut der = Zeroizing::new(Vec::with_capacity(PKCS8_V1_PREFIX.len() + ED25519_KEY_LEN));
    der.extend_from_slice(&PKCS8_V1_PREFIX);
    der.extend_from_slice(seed);
    Ed25519SigningKey::from_pkcs8(&der)
}

/// The RFC 8032 seed of `key`, for writing it as a signer key string.
pub fn seed(key: &Ed25519SigningKey) -> Result<Zeroizing<[u8; ED25519_KEY_LEN]>, CryptoError> {
    let der = key.to_pkcs8()?;
    let rest = der
        .strip_prefix(PKCS8_V1_PREFIX.as_slice())
        .ok_or(CryptoError::BadKey)?;
    let mut out = Zeroizing::new([0u8; ED25519_KEY_LEN]);
    if rest.len() != ED25519_KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    out.copy_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 TEST 1: this seed has that public key.
    #[test]
    fn rfc8032_test_1_seed_gives_its_public_key() {
        let rfc_seed =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = from_seed(&rfc_seed).unwrap();
        assert_eq!(
            hex::encode(key.public_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(seed(&key).unwrap().as_slice(), rfc_seed.as_slice());
    }

    #[test]
    fn generated_key_round_trips_through_its_seed() {
        let key = Ed25519SigningKey::generate().unwrap();
        let again = from_seed(seed(&key).unwrap().as_slice()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(again.sign(b"m"), key.sign(b"m"));
    }

    #[test]
    fn wrong_seed_length_is_refused() {
        assert_eq!(from_seed(&[0u8; 31]).err(), Some(CryptoError::BadKey));
        assert_eq!(from_seed(&[0u8; 33]).err(), Some(CryptoError::BadKey));
    }
}
