//! ASCII armor (RFC 9580 section 6): what `gpg --armor` writes.

use super::OpenPgpError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00b7_04ce;
    for b in data {
        crc ^= u32::from(*b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4cfb;
            }
        }
    }
    crc & 0x00ff_ffff
}

/// True when the input looks armored rather than binary.
pub(crate) fn is_armored(input: &[u8]) -> bool {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    input[start..].starts_with(b"-----BEGIN PGP ")
}

/// Decodes every armored block in `input` and concatenates their binary contents (a file
/// may hold several exported keys). The checksum, when present, must match.
pub(crate) fn dearmor(input: &[u8]) -> Result<Vec<u8>, OpenPgpError> {
    let text = std::str::from_utf8(input).map_err(|_| OpenPgpError::Armor)?;
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim_end);
    let mut blocks = 0;
    while let Some(line) = lines.next() {
        if !line.starts_with("-----BEGIN PGP ") {
            continue;
        }
        // Header lines ("Comment: ...") run up to the first empty line.
        for header in lines.by_ref() {
            if header.is_empty() {
                break;
            }
            if !header.contains(": ") {
                return Err(OpenPgpError::Armor);
            }
        }
        let mut b64 = String::new();
        let mut checksum = None;
        let mut ended = false;
        for body in lines.by_ref() {
            if body.starts_with("-----END PGP ") {
                ended = true;
                break;
            }
            match body.strip_prefix('=') {
                Some(sum) if sum.len() == 4 => checksum = Some(sum.to_owned()),
                _ => b64.push_str(body),
            }
        }
        if !ended {
            return Err(OpenPgpError::Armor);
        }
        let bytes = STANDARD.decode(b64).map_err(|_| OpenPgpError::Armor)?;
        if let Some(sum) = checksum {
            let want = STANDARD.decode(sum).map_err(|_| OpenPgpError::Armor)?;
            let got = crc24(&bytes).to_be_bytes();
            if want != got[1..] {
                return Err(OpenPgpError::Armor);
            }
        }
        out.extend(bytes);
        blocks += 1;
    }
    if blocks == 0 {
        return Err(OpenPgpError::Armor);
    }
    Ok(out)
}

/// Armors binary data under `label` (e.g. `PGP PUBLIC KEY BLOCK`), with a checksum.
pub(crate) fn armor(label: &str, data: &[u8]) -> String {
    let mut out = format!("-----BEGIN {label}-----\n\n");
    let b64 = STANDARD.encode(data);
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push('=');
    out.push_str(&STANDARD.encode(&crc24(data).to_be_bytes()[1..]));
    out.push_str(&format!("\n-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24_of_empty_is_the_init_value() {
        assert_eq!(crc24(b""), 0x00b7_04ce);
    }

    #[test]
    fn armor_round_trips_and_checksum_is_checked() {
        let a = armor("PGP MESSAGE", b"hello world");
        assert!(is_armored(a.as_bytes()));
        assert_eq!(dearmor(a.as_bytes()).unwrap(), b"hello world");
        let bad = a.replace("aGVsbG8g", "aGVsbG9g");
        assert_eq!(dearmor(bad.as_bytes()), Err(OpenPgpError::Armor));
        assert_eq!(dearmor(b"no armor"), Err(OpenPgpError::Armor));
    }
}
