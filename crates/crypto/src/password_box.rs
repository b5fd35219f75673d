//! Password-based sealing with scrypt and NaCl secretbox (XSalsa20-Poly1305).
//!
//! This is the one place where ironroot uses a crypto stack other than aws-lc-rs (style
//! item 2's exception): cosign's private-key file (sigstore `pkg/cryptoutils`, via
//! go-securesystemslib's `encrypted` package) derives its key with scrypt and seals the
//! PKCS#8 key with secretbox, and aws-lc-rs offers neither. Nothing else may use this module
//! for new formats: pick an aws-lc-rs AEAD instead.

use crate::CryptoError;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

/// Salt length cosign writes (go-securesystemslib uses 32 random bytes).
pub const PASSWORD_BOX_SALT_LEN: usize = 32;
/// XSalsa20 nonce length.
pub const PASSWORD_BOX_NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

// Upper bounds on scrypt's cost so that a hostile key file cannot make us allocate or spin
// without limit: 128 * r * N bytes is at most 128 MiB here.
const MAX_LOG_N: u8 = 17;
const MAX_R: u32 = 8;
const MAX_P: u32 = 2;

/// scrypt's cost parameters, with N given as its base-2 logarithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptParams {
    pub log_n: u8,
    pub r: u32,
    pub p: u32,
}

impl ScryptParams {
    /// N=32768, r=8, p=1: what cosign wrote for years and what every reader accepts.
    pub const COSIGN_LEGACY: ScryptParams = ScryptParams {
        log_n: 15,
        r: 8,
        p: 1,
    };
    /// N=65536, r=8, p=1: what newer cosign releases write.
    pub const COSIGN_STANDARD: ScryptParams = ScryptParams {
        log_n: 16,
        r: 8,
        p: 1,
    };

    /// Takes N as the format stores it; fails unless N is a power of two within our bounds.
    pub fn from_n(n: u64, r: u32, p: u32) -> Result<Self, CryptoError> {
        if n < 2 || !n.is_power_of_two() {
            return Err(CryptoError::Unsupported("scrypt N must be a power of two"));
        }
        let log_n = u8::try_from(n.trailing_zeros())
            .map_err(|_| CryptoError::Unsupported("scrypt N out of range"))?;
        let params = ScryptParams { log_n, r, p };
        params.check()?;
        Ok(params)
    }

    pub fn n(self) -> u64 {
        1u64 << self.log_n
    }

    fn check(self) -> Result<(), CryptoError> {
        if self.log_n == 0 || self.log_n > MAX_LOG_N || self.r == 0 || self.r > MAX_R {
            return Err(CryptoError::Unsupported("scrypt parameters out of bounds"));
        }
        if self.p == 0 || self.p > MAX_P {
            return Err(CryptoError::Unsupported("scrypt parameters out of bounds"));
        }
        Ok(())
    }

    fn derive(self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        self.check()?;
        let params = scrypt::Params::new(self.log_n, self.r, self.p, KEY_LEN)
            .map_err(|_| CryptoError::Unsupported("scrypt parameters"))?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        scrypt::scrypt(password, salt, &params, key.as_mut())
            .map_err(|_| CryptoError::Unsupported("scrypt output length"))?;
        Ok(key)
    }
}

/// What a password box stores beside the ciphertext: the random salt and nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordBox {
    pub salt: Vec<u8>,
    pub nonce: Vec<u8>,
    /// Secretbox output: Poly1305 tag (16 bytes) followed by the encrypted bytes.
    pub ciphertext: Vec<u8>,
}

/// Seals `plaintext` under a key derived from `password` with a fresh salt and nonce.
pub fn password_box_seal(
    password: &[u8],
    params: ScryptParams,
    plaintext: &[u8],
) -> Result<PasswordBox, CryptoError> {
    let salt = crate::random_bytes(PASSWORD_BOX_SALT_LEN)?;
    let nonce = crate::random_bytes(PASSWORD_BOX_NONCE_LEN)?;
    let key = params.derive(password, &salt)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(PasswordBox {
        salt,
        nonce,
        ciphertext,
    })
}

/// Opens a password box. A wrong password and a tampered box both give
/// [`CryptoError::Decrypt`]; secretbox cannot tell them apart, and neither should we.
pub fn password_box_open(
    password: &[u8],
    params: ScryptParams,
    sealed: &PasswordBox,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // from_slice panics on a wrong length, so the lengths are checked first.
    if sealed.nonce.len() != PASSWORD_BOX_NONCE_LEN || sealed.salt.is_empty() {
        return Err(CryptoError::Decrypt);
    }
    let key = params.derive(password, &sealed.salt)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            sealed.ciphertext.as_slice(),
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cheap parameters keep unit tests fast; the cosign parameters are exercised by the
    // signing crate's tests against published key files.
    const FAST: ScryptParams = ScryptParams {
        log_n: 4,
        r: 8,
        p: 1,
    };

    #[test]
    fn seal_then_open_round_trips_and_wrong_password_fails() {
        let sealed = password_box_seal(b"pw", FAST, b"secret key").unwrap();
        assert_eq!(sealed.salt.len(), 32);
        assert_eq!(sealed.nonce.len(), 24);
        assert_eq!(sealed.ciphertext.len(), 10 + 16);
        let opened = password_box_open(b"pw", FAST, &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"secret key");
        assert_eq!(
            password_box_open(b"pW", FAST, &sealed),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn tampered_box_and_bad_nonce_fail_without_panicking() {
        let mut sealed = password_box_seal(b"", FAST, b"k").unwrap();
        sealed.ciphertext[0] ^= 1;
        assert_eq!(
            password_box_open(b"", FAST, &sealed),
            Err(CryptoError::Decrypt)
        );
        sealed.nonce.pop();
        assert_eq!(
            password_box_open(b"", FAST, &sealed),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn scrypt_params_are_bounded() {
        assert_eq!(
            ScryptParams::from_n(32768, 8, 1).unwrap(),
            ScryptParams::COSIGN_LEGACY
        );
        assert_eq!(ScryptParams::from_n(65536, 8, 1).unwrap().n(), 65536);
        assert!(ScryptParams::from_n(1 << 20, 8, 1).is_err());
        assert!(ScryptParams::from_n(30000, 8, 1).is_err());
        assert!(ScryptParams::from_n(32768, 64, 1).is_err());
        assert!(ScryptParams::from_n(32768, 8, 0).is_err());
    }

    #[test]
    fn scrypt_matches_rfc7914_vector() {
        // RFC 7914 section 12, second vector: P="password", S="NaCl", N=1024, r=8, p=16.
        // p=16 is beyond our bound for files, so call the primitive directly.
        let params = scrypt::Params::new(10, 8, 16, 64).unwrap();
        let mut out = [0u8; 64];
        scrypt::scrypt(b"password", b"NaCl", &params, &mut out).unwrap();
        assert_eq!(out[..4], [0xfd, 0xba, 0xbe, 0x1c]);
    }
}
