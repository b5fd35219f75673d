//! The ASCII form: `PCR TEMPLATE_HASH TEMPLATE_NAME ALG:FILE_DIGEST PATH[ SIG]` per line.
//! The path may contain spaces, so it is everything between the digest and the end of
//! the line (or, for `ima-sig`, the last space).

use super::template::{alg_from_ima_name, check_entry, has_sig_field};
use super::{ImaEntry, ImaError, ImaLog, ImaPosition, MAX_ENTRIES};
use ironroot_tpm_wire::Digest;

pub(super) fn parse(bytes: &[u8]) -> Result<ImaLog, ImaError> {
    // A final newline ends the last line rather than starting an empty one.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut entries = Vec::new();
    if body.is_empty() {
        return Ok(ImaLog { entries });
    }
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if entries.len() >= MAX_ENTRIES {
            return Err(ImaError::TooManyEntries { limit: MAX_ENTRIES });
        }
        entries.push(parse_line(line, ImaPosition::Line(i + 1))?);
    }
    Ok(ImaLog { entries })
}

fn parse_line(line: &[u8], at: ImaPosition) -> Result<ImaEntry, ImaError> {
    let malformed = |reason| ImaError::MalformedLine { at, reason };
    let line = std::str::from_utf8(line).map_err(|_| malformed("not UTF-8"))?;
    let mut fields = line.splitn(4, ' ');
    let (pcr, hash, template, rest) =
        match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some(p), Some(h), Some(t), Some(r)) => (p, h, t, r),
            _ => return Err(malformed("fewer than five fields")),
        };
    let pcr = parse_pcr(pcr).ok_or(ImaError::PcrIndexOutOfRange { at })?;
    let template_hash = decode_hex(hash, "template hash", at)?;
    let sig = has_sig_field(template.as_bytes(), at)?;
    let (file_data, rest) = rest.split_once(' ').ok_or(malformed("no path"))?;
    let (path, signature) = if sig {
        let (path, sig_hex) = rest
            .rsplit_once(' ')
            .ok_or(malformed("no signature field"))?;
        (path, Some(Digest(decode_hex(sig_hex, "signature", at)?)))
    } else {
        (rest, None)
    };
    let (alg, digest_hex) = file_data
        .split_once(':')
        .ok_or(malformed("file digest has no \"<alg>:\" prefix"))?;
    let entry = ImaEntry {
        pcr,
        template: template.to_string(),
        file_digest_alg: alg_from_ima_name(alg.as_bytes(), at)?,
        file_digest: Digest(decode_hex(digest_hex, "file digest", at)?),
        path: path.to_string(),
        signature,
        template_hash_sha1: Digest(template_hash),
    };
    check_entry(&entry, at)?;
    Ok(entry)
}

/// A decimal PCR index as the kernel prints it: digits only, no sign, no padding beyond
/// what fits a PCR number.
fn parse_pcr(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn decode_hex(s: &str, field: &'static str, at: ImaPosition) -> Result<Vec<u8>, ImaError> {
    hex::decode(s).map_err(|_| ImaError::BadHex { at, field })
}

pub(super) fn write(entries: &[ImaEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!(
            "{} {} {} {}:{} {}",
            e.pcr,
            e.template_hash_sha1.hex(),
            e.template,
            e.file_digest_alg.name(),
            e.file_digest.hex(),
            e.path
        ));
        if e.template == super::template::IMA_SIG {
            // The kernel prints a separator before every field, even an empty one.
            out.push(' ');
            if let Some(sig) = &e.signature {
                out.push_str(&sig.hex());
            }
        }
        out.push('\n');
    }
    out
}
