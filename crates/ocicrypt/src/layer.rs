//! Streaming encryption and decryption of one layer blob with
//! `AES_256_CTR_HMAC_SHA256`, in constant memory. The two hashes of the ciphertext (its
//! SHA-256 and the HMAC) run on a scoped helper thread, so a layer uses two cores when
//! there are; see docs/benchmarks.md, "Encrypted image layers".

use crate::options::{
    Nonce, PrivateCipherOptions, PrivateOptions, PublicOptions, SymKey,
    CIPHER_AES_256_CTR_HMAC_SHA256,
};
use crate::Bytes;
use ironroot_crypto::{random_bytes, Aes256Ctr, CryptoError, HashAlg, Hasher, HmacStream};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;
use zeroize::Zeroizing;

/// Size of each buffer a layer streams through: one read and one write per MiB keeps the
/// system-call cost small.
pub const BUFFER_LEN: usize = 1024 * 1024;

/// Buffers in the pipeline between the caller's thread and the ciphertext-hashing thread;
/// memory is `BUFFERS * BUFFER_LEN` whatever the layer's size.
const BUFFERS: usize = 4;

/// The plaintext is hashed and encrypted piece by piece, while each piece is in L1 cache.
const TILE_LEN: usize = 32 * 1024;

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
    let mut plain_hash = Hasher::new(HashAlg::Sha256);
    let (cipher, size) = with_cipher_hasher(key.expose(), |pipe| {
        let mut size = 0u64;
        loop {
            let mut buf = pipe.free_buffer()?;
            let n = read_full(&mut reader, &mut buf)?;
            if n == 0 {
                break;
            }
            for tile in buf[..n].chunks_mut(TILE_LEN) {
                plain_hash.update(tile);
                ctr.apply(tile)?;
            }
            writer.write_all(&buf[..n])?;
            pipe.hash(buf, n)?;
            size += n as u64;
        }
        Ok(size)
    })?;
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
            hmac: Bytes(cipher.mac.finish()),
            cipheroptions: BTreeMap::new(),
        },
        digest: cipher.digest,
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
    let mut plain_hash = Hasher::new(HashAlg::Sha256);
    let (cipher, size) = with_cipher_hasher(key, |pipe| {
        let mut size = 0u64;
        let mut at_end = false;
        loop {
            // Keep the hashing thread fed while this one decrypts what it has hashed.
            while !at_end && pipe.has_free_buffer() {
                let mut buf = pipe.free_buffer()?;
                let n = read_full(&mut reader, &mut buf)?;
                at_end = n == 0;
                pipe.hash(buf, n)?;
            }
            let Some((mut buf, n)) = pipe.next_hashed()? else {
                break;
            };
            for tile in buf[..n].chunks_mut(TILE_LEN) {
                ctr.apply(tile)?;
                plain_hash.update(tile);
            }
            writer.write_all(&buf[..n])?;
            pipe.recycle(buf);
            size += n as u64;
        }
        Ok(size)
    })?;
    if !cipher.mac.verify(&public.hmac.0) {
        return Err(LayerError::HmacMismatch);
    }
    writer.flush()?;
    Ok(DecryptedLayer {
        digest: cipher.digest,
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

/// Fills `buf` unless the stream ends first, so that every piece but the last is whole
/// blocks for the cipher and the digests.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn sha256_name(h: Hasher) -> String {
    format!("sha256:{}", hex::encode(h.finish()))
}

type Buffer = Zeroizing<Vec<u8>>;

/// What the hashing thread computed over the ciphertext.
struct CipherHashes {
    /// `sha256:<hex>`
    digest: String,
    mac: HmacStream,
}

/// The caller's end of the pipeline to the thread that hashes the ciphertext (SHA-256 for
/// the descriptor and the layer's HMAC): the two hashes of the ciphertext run on a second
/// core while this thread reads, encrypts or decrypts, hashes the plaintext and writes.
/// Buffers go to the hasher in order and come back in order.
struct Pipe {
    to_hasher: SyncSender<(Buffer, usize)>,
    from_hasher: Receiver<(Buffer, usize)>,
    free: Vec<Buffer>,
    in_flight: usize,
}

impl Pipe {
    fn has_free_buffer(&self) -> bool {
        !self.free.is_empty()
    }

    /// A buffer to fill: a spare one, or the next the hasher is done with.
    fn free_buffer(&mut self) -> Result<Buffer, LayerError> {
        match self.free.pop() {
            Some(buf) => Ok(buf),
            None => Ok(self.next_hashed()?.ok_or_else(hasher_gone)?.0),
        }
    }

    /// Hands `buf[..n]` to the hasher (`n == 0` is passed on and comes back too).
    fn hash(&mut self, buf: Buffer, n: usize) -> Result<(), LayerError> {
        self.to_hasher.send((buf, n)).map_err(|_| hasher_gone())?;
        self.in_flight += 1;
        Ok(())
    }

    /// The oldest buffer handed to the hasher, once hashed; `None` when none is out or
    /// the one that came back is the empty end-of-stream marker.
    fn next_hashed(&mut self) -> Result<Option<(Buffer, usize)>, LayerError> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        let (buf, n) = self.from_hasher.recv().map_err(|_| hasher_gone())?;
        self.in_flight -= 1;
        if n == 0 {
            self.free.push(buf);
            return Ok(None);
        }
        Ok(Some((buf, n)))
    }

    fn recycle(&mut self, buf: Buffer) {
        self.free.push(buf);
    }
}

fn hasher_gone() -> LayerError {
    LayerError::Io(std::io::Error::other("layer hashing thread stopped"))
}

/// Runs `body` with a [`Pipe`] to a scoped hashing thread and returns the ciphertext's
/// hashes with what `body` returned. The thread ends when `body` does, even on error.
fn with_cipher_hasher<T>(
    key: &[u8; 32],
    body: impl FnOnce(&mut Pipe) -> Result<T, LayerError>,
) -> Result<(CipherHashes, T), LayerError> {
    let (to_hasher, hasher_in) = sync_channel::<(Buffer, usize)>(BUFFERS);
    let (hasher_out, from_hasher) = sync_channel::<(Buffer, usize)>(BUFFERS);
    let mut mac = HmacStream::new(HashAlg::Sha256, key);
    thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut digest = Hasher::new(HashAlg::Sha256);
            for (buf, n) in hasher_in {
                digest.update(&buf[..n]);
                mac.update(&buf[..n]);
                // Once the caller is done its end is gone and the buffer is dropped here;
                // the rest of the queue must still be hashed. Never blocks: the channel
                // holds as many buffers as there are.
                let _ = hasher_out.send((buf, n));
            }
            (digest, mac)
        });
        let mut pipe = Pipe {
            to_hasher,
            from_hasher,
            free: (0..BUFFERS)
                .map(|_| Zeroizing::new(vec![0u8; BUFFER_LEN]))
                .collect(),
            in_flight: 0,
        };
        let result = body(&mut pipe);
        drop(pipe);
        let (digest, mac) = hasher.join().map_err(|_| hasher_gone())?;
        let value = result?;
        Ok((
            CipherHashes {
                digest: sha256_name(digest),
                mac,
            },
            value,
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ironroot_crypto::{digest, hmac};

    /// Gives at most `step` bytes a read, and fails once `fail_at` bytes were given.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        fail_at: Option<usize>,
        given: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.fail_at.is_some_and(|at| self.given >= at) {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.given);
            buf[..n].copy_from_slice(&self.data[self.given..self.given + n]);
            self.given += n;
            Ok(n)
        }
    }

    fn trickle(data: &[u8], fail_at: Option<usize>) -> Trickle<'_> {
        Trickle {
            data,
            step: 100_003,
            fail_at,
            given: 0,
        }
    }

    fn layer(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn layer_longer_than_the_buffer_pool_matches_one_shot_primitives() {
        for (len, step) in [
            (10_000_017, usize::MAX),
            ((BUFFERS * 2 + 1) * BUFFER_LEN + 17, 100_003),
        ] {
            one_shot_equivalence(len, step);
        }
    }

    fn one_shot_equivalence(len: usize, step: usize) {
        let plain = layer(len);
        let (key, iv) = ([9u8; 32], [0xfeu8; 16]);
        let mut cipher = Vec::new();
        let enc = encrypt_layer_with(
            Trickle {
                step,
                ..trickle(&plain, None)
            },
            &mut cipher,
            SymKey::new(key),
            Nonce(iv),
        )
        .unwrap();
        let mut expected = plain.clone();
        Aes256Ctr::new(&key, &iv)
            .unwrap()
            .apply(&mut expected)
            .unwrap();
        assert!(cipher == expected, "ciphertext differs from one-pass CTR");
        assert_eq!(enc.public.hmac.0, hmac(HashAlg::Sha256, &key, &cipher));
        let hex_of = |d: Vec<u8>| format!("sha256:{}", hex::encode(d));
        assert_eq!(enc.digest, hex_of(digest(HashAlg::Sha256, &cipher)));
        assert_eq!(
            enc.plaintext_digest,
            hex_of(digest(HashAlg::Sha256, &plain))
        );

        let mut back = Vec::new();
        let dec =
            decrypt_layer(trickle(&cipher, None), &mut back, &enc.private, &enc.public).unwrap();
        assert!(back == plain, "round trip differs");
        assert_eq!(
            (dec.digest, dec.plaintext_digest),
            (enc.digest, enc.plaintext_digest)
        );
    }

    #[test]
    fn hmac_covers_buffers_still_queued_when_the_caller_finishes() {
        // The hashing thread used to stop at its first buffer returned after the caller
        // had finished, so the last buffers of a layer went unhashed (seen at 1 MiB + 1).
        for len in [BUFFER_LEN + 1, 4 * BUFFER_LEN, 4 * BUFFER_LEN + 1] {
            let plain = layer(len);
            for _ in 0..4 {
                let mut cipher = Vec::new();
                let enc = encrypt_layer(&plain[..], &mut cipher).unwrap();
                let key = enc.private.symkey.expose();
                assert_eq!(enc.public.hmac.0, hmac(HashAlg::Sha256, key, &cipher));
                let r = decrypt_layer(&cipher[..], std::io::sink(), &enc.private, &enc.public);
                assert!(r.is_ok(), "{len}: {r:?}");
            }
        }
    }

    #[test]
    fn tampered_byte_past_the_first_buffers_gives_hmac_mismatch() {
        let plain = layer(6 * BUFFER_LEN);
        let mut cipher = Vec::new();
        let enc = encrypt_layer(&plain[..], &mut cipher).unwrap();
        cipher[5 * BUFFER_LEN + 3] ^= 1;
        let r = decrypt_layer(&cipher[..], std::io::sink(), &enc.private, &enc.public);
        assert!(matches!(r, Err(LayerError::HmacMismatch)), "{r:?}");
    }

    #[test]
    fn failing_reader_mid_layer_is_an_error_not_a_hang() {
        let plain = layer(8 * BUFFER_LEN);
        let r = encrypt_layer(trickle(&plain, Some(3 * BUFFER_LEN)), std::io::sink());
        assert!(matches!(r, Err(LayerError::Io(_))), "{r:?}");
        let mut cipher = Vec::new();
        let enc = encrypt_layer(&plain[..], &mut cipher).unwrap();
        let r = decrypt_layer(
            trickle(&cipher, Some(5 * BUFFER_LEN)),
            std::io::sink(),
            &enc.private,
            &enc.public,
        );
        assert!(matches!(r, Err(LayerError::Io(_))), "{r:?}");
    }

    #[test]
    fn failing_writer_mid_layer_is_an_error_not_a_hang() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::other("no space left"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let plain = layer(8 * BUFFER_LEN);
        let r = encrypt_layer(&plain[..], Full(2 * BUFFER_LEN));
        assert!(matches!(r, Err(LayerError::Io(_))), "{r:?}");
        let mut cipher = Vec::new();
        let enc = encrypt_layer(&plain[..], &mut cipher).unwrap();
        let r = decrypt_layer(&cipher[..], Full(BUFFER_LEN), &enc.private, &enc.public);
        assert!(matches!(r, Err(LayerError::Io(_))), "{r:?}");
    }
}
