//! Blob digests, checked while the blob streams through the scan.

use ironroot_crypto::{HashAlg, Hasher};
use std::io::Read;

/// A content digest as OCI descriptors write it: `sha256:<64 hex>` or `sha512:<128 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct BlobDigest {
    alg: HashAlg,
    hex: String,
}

impl From<BlobDigest> for String {
    fn from(d: BlobDigest) -> String {
        d.to_string()
    }
}

impl std::fmt::Display for BlobDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.alg.name(), self.hex)
    }
}

impl BlobDigest {
    /// Parses a digest, refusing algorithms other than sha256 and sha512 and any hex that
    /// is not lowercase and of the algorithm's length (the OCI image spec's rules).
    pub fn parse(s: &str) -> Option<BlobDigest> {
        let (name, hex) = s.split_once(':')?;
        let alg = match name {
            "sha256" => HashAlg::Sha256,
            "sha512" => HashAlg::Sha512,
            _ => return None,
        };
        let ok = hex.len() == alg.len() * 2
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| BlobDigest {
            alg,
            hex: hex.to_owned(),
        })
    }

    /// The digest of `data`.
    pub fn of(alg: HashAlg, data: &[u8]) -> BlobDigest {
        BlobDigest {
            alg,
            hex: hex::encode(ironroot_crypto::digest(alg, data)),
        }
    }

    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// The hex part, as blob paths in an OCI layout use it.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

/// Hashes and counts what is read through it.
pub struct DigestReader<R> {
    inner: R,
    hasher: Hasher,
    alg: HashAlg,
    bytes: u64,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R, alg: HashAlg) -> Self {
        DigestReader {
            inner,
            hasher: Hasher::new(alg),
            alg,
            bytes: 0,
        }
    }

    /// The digest and length of everything read.
    pub fn finish(self) -> (BlobDigest, u64) {
        let hex = hex::encode(self.hasher.finish());
        (BlobDigest { alg: self.alg, hex }, self.bytes)
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
