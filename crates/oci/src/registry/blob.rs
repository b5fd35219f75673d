//! Blob reads: small blobs (configs, signatures, attestations) gathered in memory through
//! a [`BlobCheck`], which stops at the first byte over the limit and checks the digest;
//! layers read as a stream from a blocking thread, never past their declared size.

use super::limits::BlobCheck;
use super::{Registry, RegistryError};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use oci_client::Reference;
use std::io::Read;

impl Registry {
    /// The blob `digest` of `reference`'s repository, at most `max` bytes (and refused
    /// before any request if its descriptor's `declared` size is larger), checked against
    /// its digest. Reading stops as soon as the registry sends one byte too many.
    pub async fn fetch_blob(
        &self,
        reference: &Reference,
        what: &str,
        digest: &str,
        declared: u64,
        max: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut check = BlobCheck::start(what, digest, declared, max)?;
        let stream = self
            .client
            .pull_blob_stream(reference, digest)
            .await
            .map_err(|e| RegistryError::request(what, e))?;
        if let Some(len) = stream.content_length.filter(|l| *l > max) {
            return Err(RegistryError::TooLarge {
                what: what.to_owned(),
                size: len,
                max,
            });
        }
        let mut chunks = stream.stream;
        let mut out = Vec::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| RegistryError::Io {
                what: format!("{what}: reading blob {digest}"),
                source: e,
            })?;
            check.update(&chunk)?;
            out.extend_from_slice(&chunk);
        }
        check.finish()?;
        Ok(out)
    }

    /// A layer blob as a [`Read`] for a blocking thread (the scanner's), running the
    /// requests on `runtime`. The reader refuses bytes past `declared`; the digest is the
    /// caller's to check while it reads (the scanner hashes on a thread of its own).
    pub fn layer_reader<'r>(
        &self,
        reference: &Reference,
        what: &str,
        digest: &str,
        declared: u64,
        runtime: &'r tokio::runtime::Handle,
    ) -> Result<BlockingBlob<'r>, RegistryError> {
        let stream = runtime
            .block_on(self.client.pull_blob_stream(reference, digest))
            .map_err(|e| RegistryError::request(format!("{what} ({digest})"), e))?;
        Ok(BlockingBlob {
            runtime,
            stream: stream.stream,
            buf: bytes::Bytes::new(),
            left: declared,
            declared,
        })
    }
}

/// A blob stream read from a blocking thread, a chunk at a time.
pub struct BlockingBlob<'r> {
    runtime: &'r tokio::runtime::Handle,
    stream: BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    buf: bytes::Bytes,
    /// Bytes the descriptor still allows.
    left: u64,
    declared: u64,
}

impl Read for BlockingBlob<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                Some(chunk) => {
                    let chunk = chunk?;
                    if chunk.len() as u64 > self.left {
                        return Err(std::io::Error::other(format!(
                            "the registry sent more than the {} bytes the descriptor states",
                            self.declared
                        )));
                    }
                    self.left -= chunk.len() as u64;
                    self.buf = chunk;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}
