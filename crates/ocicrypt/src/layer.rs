//! Streaming encryption and decryption of one layer blob with
//! `AES_256_CTR_HMAC_SHA256`, in constant memory.

use crate::options::{
    Nonce, PrivateCipherOptions, PrivateOptions, PublicOptions, SymKey,
    CIPHER_AES_256_CTR_HMAC_SHA256,
};
use crate::Bytes;
use ironroot_crypto::{random_bytes, Aes256Ctr, CryptoError, HashAlg, Hasher, HmacStream};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use zeroize::Zeroizing;

/// Size of the one buffer a layer streams through.
pub const BUFFER_LEN: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    #[error("layer I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported layer cipher {0:?}")]
    UnsupportedCipher(String),
    #[error("HMAC is not provided for decryption process")]
    HmacNotProvided,
    /// The ciphertext is not what was encrypted (or the key is wrong). Everything already
    /// written must be thrown away.
    #[error("HMAC of the encrypted layer does not match")]
    HmacMismatch,
    #[error("the layer options carry no nonce")]
    MissingNonce,
    #[error("public and private options carry different nonces")]
    ConflictingNonce,
    #[error("decrypted layer is larger than the allowed {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// What [`encrypt_layer`] produced besides the ciphertext.
#[derive(Debug)]
pub struct EncryptedLayer {
    /// To be wrapped for every recipient.
    pub private: PrivateOptions,
    /// To go, base64-encoded, into the `pubopts` annotation.
    pub public: PublicOptions,
    /// `sha256:<hex>` and size of the ciphertext: the new layer descriptor's digest and size.
    pub digest: String,
    pub size: u64,
    /// `sha256:<hex>` and size of the plaintext that went in.
    pub plaintext_digest: String,
    pub plaintext_size: u64,
}

/// What [`decrypt_layer`] saw, for the caller to check against the layer descriptor
/// (ciphertext) and the config's `diff_ids` after decompression (plaintext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedLayer {
    pub digest: String,
    pub size: u64,
    pub plaintext_digest: String,
    pub plaintext_size: u64,
}

/// Encrypts `reader` into `writer` under a fresh random key and nonce.
pub fn encrypt_layer<R: Read, W: Write>(
    reader: R,
    writer: W,
) -> Result<EncryptedLayer, LayerError> {
    let key: [u8; 32] = random_array()?;
    let nonce: [u8; 16] = random_array()?;
    encrypt_layer_with(reader, writer, SymKey::new(key), Nonce(nonce))
}

fn random_array<const N: usize>() -> Result<[u8; N], LayerError> {
    let v = Zeroizing::new(random_bytes(N)?);
    let mut out = [0u8; N];
    out.copy_from_slice(&v);
    Ok(out)
}

/// [`encrypt_layer`] with a given key and nonce, for known-answer tests. Reusing a key and
/// nonce pair for two layers gives the XOR of their plaintexts away.
pub fn encrypt_layer_with<R: Read, W: Write>(
    mut reader: R,
    mut writer: W,
    key: SymKey,
    nonce: Nonce,
) -> Result<EncryptedLayer, LayerError> {
    let mut ctr = Aes256Ctr::new(key.expose(), &nonce.0)?;
    let mut mac = HmacStream::new(HashAlg::Sha256, key.expose());
    let mut plain_hash = Hasher::new(HashAlg::Sha256);
    let mut cipher_hash = Hasher::new(HashAlg::Sha256);
    let mut buf = Zeroizing::new(vec![0u8; BUFFER_LEN]);
    let mut size = 0u64;
    loop {
        let n = read_some(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        plain_hash.update(chunk);
        ctr.apply(chunk)?;
        mac.update(chunk);
        cipher_hash.update(chunk);
        writer.write_all(chunk)?;
        size += n as u64;
    }
    writer.flush()?;
    let plaintext_digest = sha256_name(plain_hash);
    Ok(EncryptedLayer {
        private: PrivateOptions {
            symkey: key,
            digest: plaintext_digest.clone(),
            cipheroptions: PrivateCipherOptions { nonce: Some(nonce) },
        },
        public: PublicOptions {
            cipher: CIPHER_AES_256_CTR_HMAC_SHA256.to_string(),
            hmac: Bytes(mac.finish()),
            cipheroptions: BTreeMap::new(),
        },
        digest: sha256_name(cipher_hash),
        size,
        plaintext_digest,
        plaintext_size: size,
    })
}

/// Decrypts `reader` into `writer`, checking the HMAC (in constant time) at the end.
///
/// Plaintext is written as it is decrypted, before the HMAC can be checked, so **on any
/// error the caller must discard everything written**: write to a temporary file and
/// rename it only on `Ok`, or use [`decrypt_layer_to_vec`]. The HMAC, the key and the
/// cipher are checked before anything is written when they are unusable.
///
/// Deviation from ocicrypt, on purpose: a nonce in the public options is refused unless
/// it equals the private one (Go would silently prefer the public one, and the HMAC does
/// not cover it).
pub fn decrypt_layer<R: Read, W: Write>(
    mut reader: R,
    mut writer: W,
    private: &PrivateOptions,
    public: &PublicOptions,
) -> Result<DecryptedLayer, LayerError> {
    let nonce = check_options(private, public)?;
    let key = private.symkey.expose();
    let mut ctr = Aes256Ctr::new(key, &nonce.0)?;
    let mut mac = HmacStream::new(HashAlg::Sha256, key);
    let mut plain_hash = Hasher::new(HashAlg::Sha256);
    let mut cipher_hash = Hasher::new(HashAlg::Sha256);
    let mut buf = Zeroizing::new(vec![0u8; BUFFER_LEN]);
    let mut size = 0u64;
    loop {
        let n = read_some(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        cipher_hash.update(chunk);
        mac.update(chunk);
        ctr.apply(chunk)?;
        plain_hash.update(chunk);
        writer.write_all(chunk)?;
        size += n as u64;
    }
    if !mac.verify(&public.hmac.0) {
        return Err(LayerError::HmacMismatch);
    }
    writer.flush()?;
    Ok(DecryptedLayer {
        digest: sha256_name(cipher_hash),
        size,
        plaintext_digest: sha256_name(plain_hash),
        plaintext_size: size,
    })
}

/// Decrypts a whole layer into memory and returns the plaintext only if the HMAC
/// verifies. Fails with [`LayerError::TooLarge`] past `max_len` bytes.
pub fn decrypt_layer_to_vec<R: Read>(
    reader: R,
    private: &PrivateOptions,
    public: &PublicOptions,
    max_len: u64,
) -> Result<(Vec<u8>, DecryptedLayer), LayerError> {
    let mut out = Vec::new();
    let limited = reader.take(max_len.saturating_add(1));
    let result = decrypt_layer(limited, &mut out, private, public);
    // Reading stopped one byte past the limit, so a longer layer fails its HMAC; say
    // why. The plaintext is dropped here, unseen, on any error.
    if out.len() as u64 > max_len {
        return Err(LayerError::TooLarge(max_len));
    }
    Ok((out, result?))
}

fn check_options(private: &PrivateOptions, public: &PublicOptions) -> Result<Nonce, LayerError> {
    if public.cipher != CIPHER_AES_256_CTR_HMAC_SHA256 {
        return Err(LayerError::UnsupportedCipher(public.cipher.clone()));
    }
    if public.hmac.0.is_empty() {
        return Err(LayerError::HmacNotProvided);
    }
    if public.hmac.0.len() != 32 {
        return Err(LayerError::HmacMismatch);
    }
    let nonce = private
        .cipheroptions
        .nonce
        .ok_or(LayerError::MissingNonce)?;
    if let Some(public_nonce) = public.cipheroptions.get("nonce") {
        if public_nonce.0 != nonce.0 {
            return Err(LayerError::ConflictingNonce);
        }
    }
    Ok(nonce)
}

fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn sha256_name(h: Hasher) -> String {
    format!("sha256:{}", hex::encode(h.finish()))
}
