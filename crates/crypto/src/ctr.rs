use crate::CryptoError;
use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};
use zeroize::Zeroizing;

/// AES-256 in counter mode over a stream of chunks of any size, as ocicrypt's
/// `AES_256_CTR_HMAC_SHA256` layer cipher uses it.
///
/// The 16-byte IV is the whole initial counter block and the counter is incremented as a
/// 128-bit big-endian integer (what Go's `cipher.NewCTR` and OpenSSL do). CTR is its own
/// inverse, so the same context encrypts and decrypts. It gives no integrity: callers pair
/// it with a MAC.
///
/// Whole blocks are transformed in place (aws-lc's one-shot CTR, started at the counter of
/// the stream's position), so a layer is never copied; only a chunk that ends inside a block
/// costs one extra block of key stream, kept for the next chunk.
pub struct Aes256Ctr {
    key: EncryptingKey,
    iv: u128,
    /// Bytes of key stream used so far.
    offset: u64,
    /// Key stream of the block `offset` is inside of, when it is not on a block boundary.
    spare: Zeroizing<[u8; 16]>,
}

const BLOCK: usize = 16;

impl Aes256Ctr {
    pub fn new(key: &[u8; 32], iv: &[u8; 16]) -> Result<Self, CryptoError> {
        let unbound = UnboundCipherKey::new(&AES_256, key).map_err(|_| CryptoError::BadKey)?;
        let key = EncryptingKey::ctr(unbound).map_err(|_| CryptoError::BadKey)?;
        Ok(Aes256Ctr {
            key,
            iv: u128::from_be_bytes(*iv),
            offset: 0,
            spare: Zeroizing::new([0u8; 16]),
        })
    }

    /// XORs the next `data.len()` bytes of key stream into `data`.
    pub fn apply(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        let used = (self.offset % BLOCK as u64) as usize;
        let head = if used == 0 {
            0
        } else {
            (BLOCK - used).min(data.len())
        };
        let (partial, rest) = data.split_at_mut(head);
        for (d, k) in partial.iter_mut().zip(&self.spare[used..]) {
            *d ^= k;
        }
        self.offset += head as u64;
        let whole = rest.len() / BLOCK * BLOCK;
        let (blocks, tail) = rest.split_at_mut(whole);
        if !blocks.is_empty() {
            self.xor_at_counter(blocks)?;
            self.offset += whole as u64;
        }
        if !tail.is_empty() {
            let mut stream = Zeroizing::new([0u8; BLOCK]);
            self.xor_at_counter(&mut stream[..])?;
            for (d, k) in tail.iter_mut().zip(stream.iter()) {
                *d ^= k;
            }
            self.spare = stream;
            self.offset += tail.len() as u64;
        }
        Ok(())
    }

    /// `data` XOR the key stream from the block `offset` is at (a block boundary).
    fn xor_at_counter(&self, data: &mut [u8]) -> Result<(), CryptoError> {
        let counter = self.iv.wrapping_add(u128::from(self.offset / BLOCK as u64));
        self.key
            .less_safe_encrypt(data, EncryptionContext::Iv128(counter.to_be_bytes().into()))
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn ctr_matches_nist_sp800_38a_f5_5() {
        // SP 800-38A F.5.5, CTR-AES256.Encrypt, blocks 1 and 2.
        let key: [u8; 32] = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
            .try_into()
            .unwrap();
        let iv: [u8; 16] = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").try_into().unwrap();
        let mut data = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        Aes256Ctr::new(&key, &iv).unwrap().apply(&mut data).unwrap();
        assert_eq!(
            data,
            hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5")
        );
    }

    #[test]
    fn odd_chunks_equal_one_pass_and_invert() {
        let key = [7u8; 32];
        let iv = [0xffu8; 16]; // the counter wraps after the first block
        let plain: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut one = plain.clone();
        Aes256Ctr::new(&key, &iv).unwrap().apply(&mut one).unwrap();
        let mut chunked = plain.clone();
        let mut ctx = Aes256Ctr::new(&key, &iv).unwrap();
        let mut rest = chunked.as_mut_slice();
        for n in [1usize, 15, 16, 17, 100, 3].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at_mut((*n).min(rest.len()));
            ctx.apply(head).unwrap();
            rest = tail;
        }
        assert_eq!(one, chunked);
        assert_ne!(one, plain);
        Aes256Ctr::new(&key, &iv).unwrap().apply(&mut one).unwrap();
        assert_eq!(one, plain);
    }
}
