//! Decompression chosen by the bytes, with a count of what went in, for the bomb checks.

use std::io::{BufRead, BufReader, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// From a layer's first bytes (gzip `1f 8b`, zstd `28 b5 2f fd`); anything else is
    /// read as an uncompressed tar, which then fails as a tar if it is not one.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Counts the bytes read through it; the count is shared with the walker.
pub(crate) struct Counting<R> {
    inner: R,
    pub(crate) count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The decompressed stream of `raw`, its compression, and a counter of compressed bytes.
#[allow(clippy::type_complexity)]
pub(crate) fn open<'r, R: Read + 'r>(
    raw: R,
) -> std::io::Result<(
    Box<dyn Read + 'r>,
    Compression,
    std::rc::Rc<std::cell::Cell<u64>>,
)> {
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: raw,
            count: count.clone(),
        },
    );
    let kind = Compression::sniff(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'r> = match kind {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    Ok((reader, kind, count))
}
