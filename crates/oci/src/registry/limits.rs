//! What a registry may send, and the check every blob goes through while it streams: the
//! size limit is enforced as bytes arrive (reading stops at the first byte too many) and
//! the digest is computed as they pass. No I/O.

use super::RegistryError;
use ironroot_crypto::{HashAlg, Hasher};
use ironroot_scanner::BlobDigest;

/// Largest manifest, index or image config read (they are JSON documents of a few KiB).
pub const MAX_DOCUMENT: u64 = 4 << 20;
/// More layers than this in one `.sig` or `.att` manifest is not a store but an attack.
pub const MAX_ATTACHMENT_LAYERS: usize = 256;

/// A blob being received: its expected digest and the most bytes it may have.
pub struct BlobCheck {
    what: String,
    expected: BlobDigest,
    max: u64,
    hasher: Hasher,
    size: u64,
}

impl BlobCheck {
    /// Refuses at once a blob whose descriptor already says it is too large, or whose
    /// digest is not one we can check.
    pub fn start(
        what: impl Into<String>,
        digest: &str,
        declared: u64,
        max: u64,
    ) -> Result<BlobCheck, RegistryError> {
        let what = what.into();
        let expected = BlobDigest::parse(digest).ok_or_else(|| RegistryError::BadDigest {
            what: what.clone(),
            digest: digest.to_owned(),
        })?;
        if declared > max {
            return Err(RegistryError::TooLarge {
                what,
                size: declared,
                max,
            });
        }
        Ok(BlobCheck {
            hasher: Hasher::new(expected.alg()),
            what,
            expected,
            max,
            size: 0,
        })
    }

    /// Counts and hashes `chunk`; an error as soon as the total passes the limit, so the
    /// caller stops reading there.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), RegistryError> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.max {
            return Err(RegistryError::TooLarge {
                what: self.what.clone(),
                size: self.size,
                max: self.max,
            });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Succeeds only if what went through has the expected digest.
    pub fn finish(self) -> Result<(), RegistryError> {
        let alg: HashAlg = self.expected.alg();
        let actual = format!("{}:{}", alg.name(), hex::encode(self.hasher.finish()));
        if actual != self.expected.to_string() {
            return Err(RegistryError::DigestMismatch {
                what: self.what,
                expected: self.expected.to_string(),
                actual,
            });
        }
        Ok(())
    }
}

/// The `sha256:<hex>` digest of `data`, as descriptors write it.
pub fn sha256(data: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(ironroot_crypto::digest(HashAlg::Sha256, data))
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_blob_passes_with_its_digest_and_within_its_limit() {
        let d = sha256(b"hello");
        let mut c = BlobCheck::start("b", &d, 5, 5).unwrap();
        c.update(b"hel").unwrap();
        c.update(b"lo").unwrap();
        assert_eq!(c.size(), 5);
        c.finish().unwrap();
    }

    #[test]
    fn the_limit_stops_reading_at_the_first_byte_too_many() {
        let d = sha256(b"hello!");
        assert!(matches!(
            BlobCheck::start("b", &d, 6, 5),
            Err(RegistryError::TooLarge { size: 6, .. })
        ));
        // A descriptor that lies about the size is caught while streaming.
        let mut c = BlobCheck::start("b", &d, 1, 5).unwrap();
        c.update(b"hello").unwrap();
        assert!(matches!(
            c.update(b"!"),
            Err(RegistryError::TooLarge {
                size: 6,
                max: 5,
                ..
            })
        ));
    }

    #[test]
    fn other_content_or_an_unknown_digest_is_refused() {
        let mut c = BlobCheck::start("b", &sha256(b"hello"), 5, 10).unwrap();
        c.update(b"HELLO").unwrap();
        assert!(matches!(
            c.finish(),
            Err(RegistryError::DigestMismatch { .. })
        ));
        for bad in ["md5:00", "sha256:XYZ", "sha256"] {
            assert!(matches!(
                BlobCheck::start("b", bad, 1, 10),
                Err(RegistryError::BadDigest { .. })
            ));
        }
    }
}
