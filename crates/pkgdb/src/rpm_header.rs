//! The rpm header structure as rpm's database stores it (rpm's docs/manual/format.md and
//! hregions.md): no magic, then big-endian `u32 il` (index entries) and `u32 dl` (data bytes),
//! `il` entries of `u32 tag, type, offset, count`, then the `dl`-byte data store.
//! Every entry's extent is checked against the store before any value is read.

use crate::Error;

/// rpm's own bounds (lib/header.c: at most 0xffff tags, at most 256 MiB of data).
const MAX_INDEX_ENTRIES: u32 = 0xffff;
const MAX_DATA_BYTES: usize = 256 * 1024 * 1024;
const ENTRY_BYTES: usize = 16;
const INTRO_BYTES: usize = 8;

pub(crate) const TYPE_INT32: u32 = 4;
pub(crate) const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// One index entry, bounds-checked against the data store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub index: usize,
    pub tag: u32,
    pub ty: u32,
    pub offset: u32,
    pub count: u32,
}

/// A header whose intro and index were validated; values are read on demand.
pub(crate) struct Header<'a> {
    pub entries: Vec<Entry>,
    pub store: &'a [u8],
}

impl<'a> Header<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Self, Error> {
        let il = read_u32(blob, 0)?;
        let dl = read_u32(blob, 4)?;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(Error::RpmIndexCount {
                count: il,
                max: MAX_INDEX_ENTRIES,
            });
        }
        let data_len = usize::try_from(dl).unwrap_or(usize::MAX);
        if data_len > MAX_DATA_BYTES {
            return Err(Error::RpmDataLength {
                len: dl,
                max: MAX_DATA_BYTES,
            });
        }
        // il <= 0xffff and dl <= 256 MiB, so this cannot overflow.
        let store_start = INTRO_BYTES + il as usize * ENTRY_BYTES;
        let end = store_start + data_len;
        let store = blob.get(store_start..end).ok_or(Error::RpmTruncated {
            offset: store_start,
            needed: end - store_start,
            len: blob.len(),
        })?;
        if blob.len() > end {
            return Err(Error::RpmTrailingBytes {
                trailing: blob.len() - end,
            });
        }
        let entries = (0..il as usize)
            .map(|index| {
                let at = INTRO_BYTES + index * ENTRY_BYTES;
                let entry = Entry {
                    index,
                    tag: read_u32(blob, at)?,
                    ty: read_u32(blob, at + 4)?,
                    offset: read_u32(blob, at + 8)?,
                    count: read_u32(blob, at + 12)?,
                };
                check_extent(&entry, store.len())?;
                Ok(entry)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Header { entries, store })
    }

    /// The first string of a STRING, STRING_ARRAY or I18NSTRING entry, NUL excluded.
    pub fn string(&self, entry: &Entry) -> Result<&'a [u8], Error> {
        if !matches!(entry.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(wrong_type(entry, "a string"));
        }
        let rest = self.store.get(entry.offset as usize..).unwrap_or_default();
        let nul = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or(Error::RpmUnterminated {
                index: entry.index,
                tag: entry.tag,
                offset: entry.offset,
            })?;
        Ok(rest.get(..nul).unwrap_or_default())
    }

    /// The first value of an INT32 entry.
    pub fn int32(&self, entry: &Entry) -> Result<u32, Error> {
        if entry.ty != TYPE_INT32 {
            return Err(wrong_type(entry, "INT32"));
        }
        // check_extent made sure offset + 4 * count fits and count >= 1.
        read_u32(self.store, entry.offset as usize)
    }
}

fn wrong_type(entry: &Entry, expected: &'static str) -> Error {
    Error::RpmWrongType {
        index: entry.index,
        tag: entry.tag,
        ty: entry.ty,
        expected,
    }
}

/// Bytes per item of the fixed-size types (NULL, CHAR, INT8, INT16, INT32, INT64, -, BIN);
/// `None` for the NUL-terminated string types, `Err` for unknown types.
fn item_size(entry: &Entry) -> Result<Option<u64>, Error> {
    match entry.ty {
        0 => Ok(Some(0)),
        1 | 2 | 7 => Ok(Some(1)),
        3 => Ok(Some(2)),
        4 => Ok(Some(4)),
        5 => Ok(Some(8)),
        TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => Ok(None),
        ty => Err(Error::RpmBadType {
            index: entry.index,
            tag: entry.tag,
            ty,
        }),
    }
}

/// Every entry must start inside the store, have at least one item, and (for fixed-size
/// types) end inside it; string entries need at least one byte per string. Cheap (no scan),
/// so that a hostile blob of 65,535 overlapping entries costs O(entries), not O(entries × dl).
fn check_extent(entry: &Entry, store_len: usize) -> Result<(), Error> {
    let out_of_range = || Error::RpmOutOfRange {
        index: entry.index,
        tag: entry.tag,
        offset: entry.offset,
        count: entry.count,
        data_len: store_len,
    };
    let size = item_size(entry)?;
    let offset = u64::from(entry.offset);
    let len = store_len as u64;
    if entry.count == 0 || offset >= len {
        return Err(out_of_range());
    }
    let needed = u64::from(entry.count) * size.unwrap_or(1);
    if offset + needed > len {
        return Err(out_of_range());
    }
    Ok(())
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, Error> {
    let end = at.saturating_add(4);
    bytes
        .get(at..end)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or(Error::RpmTruncated {
            offset: at,
            needed: 4,
            len: bytes.len(),
        })
}
