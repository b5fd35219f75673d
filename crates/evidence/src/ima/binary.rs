//! The binary form: per entry a u32 PCR, the 20-byte SHA-1 template hash, the
//! length-prefixed template name and the length-prefixed template data.

use super::template::{check_entry, decode, has_sig_field, SHA1_LEN};
use super::{
    ImaEntry, ImaError, ImaLog, ImaPosition, MAX_ENTRIES, MAX_TEMPLATE_DATA_BYTES,
    MAX_TEMPLATE_NAME_BYTES,
};
use crate::reader::Reader;
use ironroot_tpm_wire::Digest;

pub(super) fn parse(bytes: &[u8]) -> Result<ImaLog, ImaError> {
    let mut entries = Vec::new();
    parse_tail(bytes, &mut entries)?;
    Ok(ImaLog { entries })
}

/// Appends the entries of `bytes`, numbered after `entries`. Entries are self-delimiting,
/// so bytes appended to a list that parsed read the same alone as at the end of the whole.
pub(super) fn parse_tail(bytes: &[u8], entries: &mut Vec<ImaEntry>) -> Result<(), ImaError> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        if entries.len() >= MAX_ENTRIES {
            return Err(ImaError::TooManyEntries { limit: MAX_ENTRIES });
        }
        let at = ImaPosition::Entry(entries.len());
        entries.push(parse_entry(&mut r, at)?);
    }
    Ok(())
}

fn parse_entry(r: &mut Reader<'_>, at: ImaPosition) -> Result<ImaEntry, ImaError> {
    let truncated = |field| ImaError::Truncated { at, field };
    let pcr = r.u32_le().ok_or(truncated("PCR index"))?;
    let template_hash = r.take(SHA1_LEN).ok_or(truncated("template hash"))?;
    let name_len = length(r, "template name", MAX_TEMPLATE_NAME_BYTES, at)?;
    let name = r.take(name_len).ok_or(truncated("template name"))?;
    let sig = has_sig_field(name, at)?;
    let data_len = length(r, "template data", MAX_TEMPLATE_DATA_BYTES, at)?;
    let data = r.take(data_len).ok_or(truncated("template data"))?;
    let fields = decode(data, sig, at)?;
    let entry = ImaEntry {
        pcr,
        template: String::from_utf8_lossy(name).into_owned(),
        file_digest_alg: fields.alg,
        file_digest: Digest(fields.digest),
        path: fields.path,
        signature: fields.signature.map(Digest),
        template_hash_sha1: Digest(template_hash.to_vec()),
    };
    check_entry(&entry, at)?;
    Ok(entry)
}

fn length(
    r: &mut Reader<'_>,
    what: &'static str,
    limit: usize,
    at: ImaPosition,
) -> Result<usize, ImaError> {
    let len = r.u32_le().ok_or(ImaError::Truncated { at, field: what })?;
    let size = usize::try_from(len).unwrap_or(usize::MAX);
    if size > limit {
        return Err(ImaError::TooLarge {
            at,
            what,
            size,
            limit,
        });
    }
    Ok(size)
}

pub(super) fn write(entries: &[ImaEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let data = e.template_data();
        out.extend_from_slice(&e.pcr.to_le_bytes());
        out.extend_from_slice(&e.template_hash_sha1.0);
        out.extend_from_slice(&(e.template.len() as u32).to_le_bytes());
        out.extend_from_slice(e.template.as_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
    }
    out
}
