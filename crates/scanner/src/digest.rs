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

/// Hashes and counts what is read through it. The hashing runs on a second thread, in
/// 1 MiB batches: SHA-256 of the compressed blob would otherwise add about a third to the
/// time of decompressing it (docs/benchmarks.md, "Scan time").
pub struct DigestReader<R> {
    inner: R,
    alg: HashAlg,
    bytes: u64,
    batch: Vec<u8>,
    sink: Sink,
}

enum Sink {
    Thread {
        tx: std::sync::mpsc::SyncSender<Vec<u8>>,
        handle: std::thread::JoinHandle<Vec<u8>>,
    },
    /// No thread could be started (resource limits): the same digest, computed inline.
    Inline(Hasher),
    /// The hashing thread died: the digest is unknown, so it matches nothing.
    Broken,
}

const BATCH: usize = 1 << 20;

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R, alg: HashAlg) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let spawned = std::thread::Builder::new()
            .name("layer-digest".into())
            .spawn(move || {
                let mut h = Hasher::new(alg);
                for batch in rx {
                    h.update(&batch);
                }
                h.finish()
            });
        let sink = match spawned {
            Ok(handle) => Sink::Thread { tx, handle },
            Err(_) => Sink::Inline(Hasher::new(alg)),
        };
        DigestReader {
            inner,
            alg,
            bytes: 0,
            batch: Vec::with_capacity(BATCH),
            sink,
        }
    }

    /// The digest and length of everything read.
    pub fn finish(self) -> (BlobDigest, u64) {
        let digest = match self.sink {
            Sink::Thread { tx, handle } => {
                let sent = self.batch.is_empty() || tx.send(self.batch).is_ok();
                drop(tx);
                match handle.join() {
                    Ok(d) if sent => hex::encode(d),
                    _ => String::new(),
                }
            }
            Sink::Inline(h) => hex::encode(h.finish()),
            Sink::Broken => String::new(),
        };
        let d = BlobDigest {
            alg: self.alg,
            hex: digest,
        };
        (d, self.bytes)
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        match &mut self.sink {
            Sink::Inline(h) => {
                h.update(&buf[..n]);
            }
            Sink::Thread { tx, .. } => {
                self.batch.extend_from_slice(&buf[..n]);
                if self.batch.len() >= BATCH {
                    let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
                    if tx.send(full).is_err() {
                        self.sink = Sink::Broken;
                    }
                }
            }
            Sink::Broken => {}
        }
        Ok(n)
    }
}
