//! The TPM key derivation functions (TPM 2.0 Part 1 §11.4.10).

use ironroot_crypto::{hmac, HashAlg, Hasher};
use zeroize::Zeroizing;

/// KDFa: SP 800-108 counter mode with HMAC. `label` is given without its terminating NUL;
/// the 0x00 the TPM hashes after it is always added.
pub fn kdfa(
    hash: HashAlg,
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> Zeroizing<Vec<u8>> {
    let mut fixed = Vec::with_capacity(label.len() + 1 + context_u.len() + context_v.len() + 4);
    fixed.extend_from_slice(label);
    fixed.push(0);
    fixed.extend_from_slice(context_u);
    fixed.extend_from_slice(context_v);
    fixed.extend_from_slice(&bits.to_be_bytes());
    counter_mode(bits, |counter| {
        let mut input = Zeroizing::new(counter.to_be_bytes().to_vec());
        input.extend_from_slice(&fixed);
        hmac(hash, key, &input)
    })
}

/// KDFe: the SP 800-56A concatenation KDF over the ECDH secret `z`.
pub fn kdfe(
    hash: HashAlg,
    z: &[u8],
    label: &[u8],
    party_u: &[u8],
    party_v: &[u8],
    bits: u32,
) -> Zeroizing<Vec<u8>> {
    counter_mode(bits, |counter| {
        let mut h = Hasher::new(hash);
        h.update(&counter.to_be_bytes())
            .update(z)
            .update(label)
            .update(&[0])
            .update(party_u)
            .update(party_v);
        h.finish()
    })
}

/// Concatenates `block(1), block(2), ...` and keeps the first `bits / 8` bytes.
fn counter_mode(bits: u32, mut block: impl FnMut(u32) -> Vec<u8>) -> Zeroizing<Vec<u8>> {
    let want = usize::try_from(bits / 8).unwrap_or(usize::MAX);
    let mut out = Zeroizing::new(Vec::with_capacity(want));
    let mut counter: u32 = 1;
    while out.len() < want {
        let b = Zeroizing::new(block(counter));
        out.extend_from_slice(&b);
        counter = counter.wrapping_add(1);
    }
    out.truncate(want);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31,
    ];

    // Vectors from OpenSSL 3's KBKDF (counter mode, HMAC, "salt" = label, "info" = context,
    // which adds the same 0x00 separator and 32-bit length):
    //   openssl kdf -keylen 32 -kdfopt mac:HMAC -kdfopt digest:SHA256 -kdfopt hexkey:0001..1f \
    //     -kdfopt salt:STORAGE -kdfopt hexinfo:000b0102030405060708 KBKDF
    #[test]
    fn kdfa_matches_openssl_kbkdf() {
        let k = kdfa(
            HashAlg::Sha256,
            &KEY,
            b"STORAGE",
            &[0, 0x0b, 1, 2, 3, 4],
            &[5, 6, 7, 8],
            256,
        );
        assert_eq!(
            hex::encode(&*k),
            "d38e8b0f742b3b53c81d941fe8ef171e35c79e019e75fc668afb6dce2fa0beee"
        );
        // 320 bits: two HMAC blocks, the second truncated.
        let k = kdfa(HashAlg::Sha256, &KEY, b"INTEGRITY", b"", b"", 320);
        assert_eq!(
            hex::encode(&*k),
            "5d667f96855df2608a698bfb8824b1268723b3e10f4dd14ced3899b162e3e939c5d5fc375e5a916f"
        );
    }

    // From OpenSSL 3's SSKDF (H(counter || Z || info)) with info = "IDENTITY\0" || U || V:
    //   openssl kdf -keylen 48 -kdfopt digest:SHA256 -kdfopt hexkey:0f0e..00 \
    //     -kdfopt hexinfo:4944454e5449545900aabbccddeeff SSKDF
    #[test]
    fn kdfe_matches_openssl_sskdf() {
        let z: Vec<u8> = (0u8..16).rev().collect();
        let k = kdfe(
            HashAlg::Sha256,
            &z,
            b"IDENTITY",
            &[0xaa, 0xbb, 0xcc],
            &[0xdd, 0xee, 0xff],
            384,
        );
        assert_eq!(
            hex::encode(&*k),
            "625139958246937700182326c7f348a35111e9380b226c689ea501311989512456d626fc8d84dace15e77e9cd452b456"
        );
    }

    #[test]
    fn zero_bits_is_empty() {
        assert!(kdfa(HashAlg::Sha256, &KEY, b"X", b"", b"", 0).is_empty());
    }
}
