//! OpenPGP packet framing (RFC 9580 section 4): reading both header formats, partial body
//! lengths, MPIs and subpackets; writing new-format packets.

use super::OpenPgpError;

/// No message or keyring we accept has more packets than this.
const MAX_PACKETS: usize = 4096;

pub(crate) const TAG_SIGNATURE: u8 = 2;
pub(crate) const TAG_ONE_PASS: u8 = 4;
pub(crate) const TAG_SECRET_KEY: u8 = 5;
pub(crate) const TAG_PUBLIC_KEY: u8 = 6;
pub(crate) const TAG_SECRET_SUBKEY: u8 = 7;
pub(crate) const TAG_COMPRESSED: u8 = 8;
pub(crate) const TAG_MARKER: u8 = 10;
pub(crate) const TAG_LITERAL: u8 = 11;
pub(crate) const TAG_TRUST: u8 = 12;
pub(crate) const TAG_USER_ID: u8 = 13;
pub(crate) const TAG_PUBLIC_SUBKEY: u8 = 14;
pub(crate) const TAG_USER_ATTRIBUTE: u8 = 17;

#[derive(Debug)]
pub(crate) struct Packet {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// A cursor over untrusted bytes whose every read is bounds-checked.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], OpenPgpError> {
        if n > self.data.len() {
            return Err(OpenPgpError::Truncated);
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }
    pub fn u8(&mut self) -> Result<u8, OpenPgpError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, OpenPgpError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self) -> Result<u32, OpenPgpError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
    /// A multiprecision integer: a 16-bit bit count, then the big-endian bytes.
    pub fn mpi(&mut self) -> Result<&'a [u8], OpenPgpError> {
        let bits = usize::from(self.u16()?);
        self.take(bits.div_ceil(8))
    }
}

/// Splits `data` into packets. Fails on anything malformed, including trailing garbage.
pub(crate) fn read_packets(data: &[u8]) -> Result<Vec<Packet>, OpenPgpError> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_PACKETS {
            return Err(OpenPgpError::TooLarge("packet count"));
        }
        out.push(read_one(&mut r)?);
    }
    Ok(out)
}

fn read_one(r: &mut Reader<'_>) -> Result<Packet, OpenPgpError> {
    let ctb = r.u8()?;
    if ctb & 0x80 == 0 {
        return Err(OpenPgpError::Malformed("packet header bit 7 clear"));
    }
    if ctb & 0x40 == 0 {
        // Old format: tag in bits 5..2, length type in bits 1..0.
        let tag = (ctb >> 2) & 0x0f;
        let body = match ctb & 3 {
            0 => {
                let n = usize::from(r.u8()?);
                r.take(n)?
            }
            1 => {
                let n = usize::from(r.u16()?);
                r.take(n)?
            }
            2 => {
                let n = usize::try_from(r.u32()?).map_err(|_| OpenPgpError::Truncated)?;
                r.take(n)?
            }
            // Indeterminate: the packet runs to the end of the input (gpg uses this for
            // the compressed data packet).
            _ => r.rest(),
        };
        return Ok(Packet {
            tag,
            body: body.to_vec(),
        });
    }
    let tag = ctb & 0x3f;
    let mut body = Vec::new();
    loop {
        let first = r.u8()?;
        let (n, partial) = match first {
            0..=191 => (usize::from(first), false),
            192..=223 => {
                let second = usize::from(r.u8()?);
                (((usize::from(first) - 192) << 8) + second + 192, false)
            }
            255 => (
                usize::try_from(r.u32()?).map_err(|_| OpenPgpError::Truncated)?,
                false,
            ),
            _ => (1usize << (first & 0x1f), true),
        };
        body.extend_from_slice(r.take(n)?);
        if !partial {
            break;
        }
    }
    Ok(Packet { tag, body })
}

/// Appends a new-format packet.
pub(crate) fn write_packet(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(0xc0 | tag);
    let n = body.len();
    if n < 192 {
        out.push(n as u8);
    } else if n < 8384 {
        let m = n - 192;
        out.push(((m >> 8) + 192) as u8);
        out.push((m & 0xff) as u8);
    } else {
        out.push(0xff);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// Appends an MPI (leading zero bytes stripped, exact bit count).
pub(crate) fn write_mpi(out: &mut Vec<u8>, value: &[u8]) {
    let first = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    let v = &value[first..];
    let bits = match v.first() {
        Some(top) => (v.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    };
    out.extend_from_slice(&(bits as u16).to_be_bytes());
    out.extend_from_slice(v);
}

/// One signature subpacket.
pub(crate) struct Subpacket<'a> {
    pub kind: u8,
    pub critical: bool,
    pub data: &'a [u8],
}

pub(crate) fn read_subpackets(area: &[u8]) -> Result<Vec<Subpacket<'_>>, OpenPgpError> {
    let mut r = Reader::new(area);
    let mut out = Vec::new();
    while !r.is_empty() {
        let first = r.u8()?;
        let len = match first {
            0..=191 => usize::from(first),
            192..=254 => ((usize::from(first) - 192) << 8) + usize::from(r.u8()?) + 192,
            255 => usize::try_from(r.u32()?).map_err(|_| OpenPgpError::Truncated)?,
        };
        let body = r.take(len)?;
        let (kind, data) = body
            .split_first()
            .ok_or(OpenPgpError::Malformed("empty subpacket"))?;
        out.push(Subpacket {
            kind: kind & 0x7f,
            critical: kind & 0x80 != 0,
            data,
        });
    }
    Ok(out)
}

/// Appends a subpacket whose data is shorter than 191 bytes (all we write).
pub(crate) fn write_subpacket(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    out.push((data.len() + 1) as u8);
    out.push(kind);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_format_lengths_round_trip() {
        for n in [0usize, 191, 192, 8383, 8384, 70000] {
            let body = vec![7u8; n];
            let mut out = Vec::new();
            write_packet(&mut out, TAG_LITERAL, &body);
            let p = read_packets(&out).unwrap();
            assert_eq!((p.len(), p[0].tag, p[0].body.len()), (1, TAG_LITERAL, n));
        }
    }

    #[test]
    fn partial_lengths_and_old_format_are_read() {
        // New format, partial 2^1 = 2 bytes, then a final 1-byte chunk.
        let data = [0xcb, 0xe1, b'a', b'b', 0x01, b'c'];
        assert_eq!(read_packets(&data).unwrap()[0].body, b"abc");
        // Old format, tag 8, indeterminate length.
        let data = [0xa3, 1, 2, 3];
        let p = read_packets(&data).unwrap();
        assert_eq!(
            (p[0].tag, p[0].body.as_slice()),
            (TAG_COMPRESSED, &[1u8, 2, 3][..])
        );
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        for data in [
            &[0xcbu8, 5, 1][..],
            &[0xc2, 0xff, 0, 0],
            &[0x01],
            &[0xcb, 0xe1, 1],
        ] {
            assert!(read_packets(data).is_err());
        }
    }

    #[test]
    fn mpi_bit_count_is_exact() {
        let mut out = Vec::new();
        write_mpi(&mut out, &[0, 0, 0x40, 1]);
        assert_eq!(out, [0, 15, 0x40, 1]);
        assert_eq!(Reader::new(&out).mpi().unwrap(), [0x40, 1]);
    }
}
