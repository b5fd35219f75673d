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
    parse_lines(body, &mut entries)?;
    Ok(ImaLog { entries })
}

/// Parses `tail`, bytes appended to a list whose lines all ended with a newline, exactly
/// as they would be parsed at the end of the whole list: the lines are numbered after
/// `entries`, and a lone newline is an empty line (an error), as it is there.
pub(super) fn parse_tail(tail: &[u8], entries: &mut Vec<ImaEntry>) -> Result<(), ImaError> {
    if tail.is_empty() {
        return Ok(());
    }
    parse_lines(tail.strip_suffix(b"\n").unwrap_or(tail), entries)
}

/// One entry per line of `body`; each line is numbered after the entries before it,
/// since every earlier line made exactly one entry.
fn parse_lines(body: &[u8], entries: &mut Vec<ImaEntry>) -> Result<(), ImaError> {
    for line in body.split(|b| *b == b'\n') {
        if entries.len() >= MAX_ENTRIES {
            return Err(ImaError::TooManyEntries { limit: MAX_ENTRIES });
        }
        let at = ImaPosition::Line(entries.len() + 1);
        entries.push(parse_line(line, at)?);
    }
    Ok(())
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

/// Hex in either case, as `hex::decode` reads it. Every entry carries two digests, and
/// the iterator-based decoder of the `hex` crate was most of the cost of parsing a list,
/// so this one uses a table and checks validity once per string rather than per digit.
fn decode_hex(s: &str, field: &'static str, at: ImaPosition) -> Result<Vec<u8>, ImaError> {
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(ImaError::BadHex { at, field });
    }
    let mut invalid = 0u8;
    let out: Vec<u8> = pairs
        .map(|pair| {
            let hi = pair.first().map_or(INVALID, |c| HEX_VALUE[usize::from(*c)]);
            let lo = pair.get(1).map_or(INVALID, |c| HEX_VALUE[usize::from(*c)]);
            invalid |= hi | lo;
            (hi << 4) | (lo & 0x0F)
        })
        .collect();
    if invalid & INVALID != 0 {
        return Err(ImaError::BadHex { at, field });
    }
    Ok(out)
}

/// Marks a byte that is not a hex digit in [`HEX_VALUE`].
const INVALID: u8 = 0x80;

/// The value of each hex digit, [`INVALID`] for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_hex_reads_both_cases_and_refuses_the_rest() {
        let at = ImaPosition::Line(1);
        assert_eq!(
            decode_hex("00aFfF9a", "x", at).unwrap(),
            [0x00, 0xaf, 0xff, 0x9a]
        );
        assert_eq!(decode_hex("", "x", at).unwrap(), Vec::<u8>::new());
        for bad in ["abc", "0g", "g0", " 0", "0:", "é0"] {
            assert_eq!(
                decode_hex(bad, "x", at),
                Err(ImaError::BadHex { at, field: "x" }),
                "{bad:?}"
            );
        }
    }
}
