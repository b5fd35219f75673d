use aws_lc_rs::{digest as d, hmac as h};
use serde::{Deserialize, Serialize};

/// Hash algorithms that TPM PCR banks, event logs and signatures use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

// A digest length is never zero, so an `is_empty` would only ever say false.
#[allow(clippy::len_without_is_empty)]
impl HashAlg {
    pub const ALL: [HashAlg; 4] = [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    /// Output length in bytes.
    pub const fn len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The name used in configuration, reports and IMA lists (`sha256`).
    pub const fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }

    pub fn from_name(s: &str) -> Option<HashAlg> {
        HashAlg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }

    fn digest_alg(self) -> &'static d::Algorithm {
        match self {
            HashAlg::Sha1 => &d::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &d::SHA256,
            HashAlg::Sha384 => &d::SHA384,
            HashAlg::Sha512 => &d::SHA512,
        }
    }

    fn hmac_alg(self) -> h::Algorithm {
        match self {
            HashAlg::Sha1 => h::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => h::HMAC_SHA256,
            HashAlg::Sha384 => h::HMAC_SHA384,
            HashAlg::Sha512 => h::HMAC_SHA512,
        }
    }
}

impl std::fmt::Display for HashAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One-shot digest.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    d::digest(alg.digest_alg(), data).as_ref().to_vec()
}

/// Incremental digest, for data that arrives in pieces (PCR extends, streamed files).
pub struct Hasher(d::Context);

impl Hasher {
    pub fn new(alg: HashAlg) -> Self {
        Hasher(d::Context::new(alg.digest_alg()))
    }
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// HMAC of `data` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = h::Key::new(alg.hmac_alg(), key);
    h::sign(&k, data).as_ref().to_vec()
}

/// Checks an HMAC tag in constant time.
pub fn hmac_verify(alg: HashAlg, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let k = h::Key::new(alg.hmac_alg(), key);
    h::verify(&k, data, tag).is_ok()
}

/// Incremental HMAC, for MACs over data streamed in chunks (ocicrypt layers).
pub struct HmacStream(h::Context);

impl HmacStream {
    pub fn new(alg: HashAlg, key: &[u8]) -> Self {
        HmacStream(h::Context::with_key(&h::Key::new(alg.hmac_alg(), key)))
    }
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }
    pub fn finish(self) -> Vec<u8> {
        self.0.sign().as_ref().to_vec()
    }
    /// Compares the final tag with `tag` in constant time.
    pub fn verify(self, tag: &[u8]) -> bool {
        crate::constant_time_eq(self.0.sign().as_ref(), tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_vector() {
        let d = digest(HashAlg::Sha256, b"abc");
        assert_eq!(
            d[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "FIPS 180-2 appendix B.1 vector"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        for alg in HashAlg::ALL {
            let mut h = Hasher::new(alg);
            h.update(b"ab").update(b"c");
            assert_eq!(h.finish(), digest(alg, b"abc"));
            assert_eq!(digest(alg, b"").len(), alg.len());
        }
    }

    #[test]
    fn hmac_round_trip_and_tamper() {
        let tag = hmac(HashAlg::Sha256, b"key", b"msg");
        assert!(hmac_verify(HashAlg::Sha256, b"key", b"msg", &tag));
        assert!(!hmac_verify(HashAlg::Sha256, b"key", b"msG", &tag));
    }

    #[test]
    fn names_round_trip() {
        for alg in HashAlg::ALL {
            assert_eq!(HashAlg::from_name(alg.name()), Some(alg));
        }
        assert_eq!(HashAlg::from_name("md5"), None);
    }

    #[test]
    fn streaming_hmac_equals_one_shot_and_verifies() {
        let mut m = HmacStream::new(HashAlg::Sha256, b"key");
        m.update(b"m").update(b"sg");
        assert_eq!(m.finish(), hmac(HashAlg::Sha256, b"key", b"msg"));
        let tag = hmac(HashAlg::Sha256, b"key", b"msg");
        let mut m = HmacStream::new(HashAlg::Sha256, b"key");
        m.update(b"msg");
        assert!(m.verify(&tag));
        let mut m = HmacStream::new(HashAlg::Sha256, b"key");
        m.update(b"msG");
        assert!(!m.verify(&tag));
    }
}
