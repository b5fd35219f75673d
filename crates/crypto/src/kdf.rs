use crate::{HashAlg, Hasher};
use zeroize::Zeroizing;

/// The single-step key derivation of NIST SP 800-56A 5.8.1 ("Concat KDF") with SHA-256:
/// `out = H(1 || Z || other_info) || H(2 || Z || other_info) || ...`, counters as 32-bit
/// big-endian. JWE's ECDH-ES (RFC 7518 4.6) derives its key-encryption key this way;
/// `other_info` is the caller's concatenation of AlgorithmID, PartyUInfo, PartyVInfo and
/// SuppPubInfo.
pub fn concat_kdf_sha256(z: &[u8], other_info: &[u8], out_len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(out_len + 32));
    let mut counter: u32 = 1;
    while out.len() < out_len {
        let mut h = Hasher::new(HashAlg::Sha256);
        h.update(&counter.to_be_bytes())
            .update(z)
            .update(other_info);
        out.extend_from_slice(&Zeroizing::new(h.finish()));
        counter = counter.wrapping_add(1);
    }
    out.truncate(out_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;

    #[test]
    fn rfc7518_appendix_c_example() {
        // RFC 7518 Appendix C: ECDH-ES with A128GCM, apu "Alice", apv "Bob".
        let z: [u8; 32] = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let mut info = Vec::new();
        for part in [&b"A128GCM"[..], b"Alice", b"Bob"] {
            info.extend_from_slice(&(part.len() as u32).to_be_bytes());
            info.extend_from_slice(part);
        }
        info.extend_from_slice(&128u32.to_be_bytes());
        let key = concat_kdf_sha256(&z, &info, 16);
        assert_eq!(B64.encode(key.as_slice()), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn longer_output_uses_second_counter() {
        let k = concat_kdf_sha256(b"z", b"info", 48);
        assert_eq!(k.len(), 48);
        assert_eq!(&k[..32], &concat_kdf_sha256(b"z", b"info", 32)[..]);
    }
}
