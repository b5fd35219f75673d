//! Event data structures UEFI firmware measures, so development nodes write the same
//! bytes a real firmware would, and descriptions can name what was measured.

use super::describe::utf16_text;
use crate::reader::Reader;

/// Builds a GUID in the byte order UEFI stores it: the first three fields little-endian,
/// the last eight bytes as written.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// EFI_GLOBAL_VARIABLE, 8BE4DF61-93CA-11D2-AA0D-00E098032B8C: the vendor GUID of
/// SecureBoot, PK, KEK, BootOrder and Boot#### variables.
pub const fn efi_global_variable_guid() -> [u8; 16] {
    guid(
        0x8BE4_DF61,
        0x93CA,
        0x11D2,
        [0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C],
    )
}

/// EFI_IMAGE_SECURITY_DATABASE_GUID, D719B2CB-3D3A-4596-A3BC-DAD00E67656F: the vendor
/// GUID of the `db` and `dbx` signature databases.
pub const fn efi_image_security_database_guid() -> [u8; 16] {
    guid(
        0xD719_B2CB,
        0x3D3A,
        0x4596,
        [0xA3, 0xBC, 0xDA, 0xD0, 0x0E, 0x67, 0x65, 0x6F],
    )
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// UEFI_VARIABLE_DATA, the data of EV_EFI_VARIABLE_* events: the vendor GUID, the name
/// length in UTF-16 code units, the value length, the name (UTF-16LE, no NUL), the value.
pub fn efi_variable_data(guid: [u8; 16], name: &str, value: &[u8]) -> Vec<u8> {
    let name16 = utf16le(name);
    let mut out = Vec::with_capacity(32 + name16.len() + value.len());
    out.extend_from_slice(&guid);
    out.extend_from_slice(&((name16.len() / 2) as u64).to_le_bytes());
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    out.extend_from_slice(&name16);
    out.extend_from_slice(value);
    out
}

/// Code units per media file-path node. A node's length is a u16, so long paths are split
/// over consecutive file-path nodes, which UEFI reads as one concatenated path.
const FILE_PATH_NODE_UNITS: usize = 16_000;
const MEDIA_DEVICE_PATH: u8 = 0x04;
const MEDIA_FILE_PATH: u8 = 0x04;
const END_NODE: [u8; 4] = [0x7F, 0xFF, 0x04, 0x00];

/// UEFI_IMAGE_LOAD_EVENT for an image loaded from `path` (e.g. `\EFI\BOOT\BOOTX64.EFI`):
/// zero load address, length and link-time address, as firmware reports for images it
/// measured before relocation is known, then a device path of media file-path nodes and
/// an end node.
pub fn efi_image_load_event(path: &str) -> Vec<u8> {
    let units: Vec<u16> = path.encode_utf16().collect();
    let mut device_path = Vec::new();
    for chunk in units.chunks(FILE_PATH_NODE_UNITS) {
        let node_len = 4 + 2 * (chunk.len() + 1);
        device_path.extend_from_slice(&[MEDIA_DEVICE_PATH, MEDIA_FILE_PATH]);
        device_path.extend_from_slice(&(node_len as u16).to_le_bytes());
        device_path.extend(chunk.iter().flat_map(|u| u.to_le_bytes()));
        device_path.extend_from_slice(&[0, 0]);
    }
    device_path.extend_from_slice(&END_NODE);
    let mut out = Vec::with_capacity(32 + device_path.len());
    for field in [0u64, 0, 0, device_path.len() as u64] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&device_path);
    out
}

/// The file path named by an image load event's device path, if it has one.
pub(super) fn image_load_event_path(data: &[u8]) -> Option<String> {
    let mut r = Reader::new(data);
    r.take(24)?; // location, length, link-time address: not part of the description
    let len = usize::try_from(u64::from_le_bytes(r.take(8)?.try_into().ok()?)).ok()?;
    let mut path = Reader::new(r.take(len)?);
    let mut text = String::new();
    while !path.is_empty() {
        let kind = path.u8()?;
        let subtype = path.u8()?;
        let node_len = usize::from(path.u16_le()?);
        let body = path.take(node_len.checked_sub(4)?)?;
        if [kind, subtype] == [END_NODE[0], END_NODE[1]] {
            break;
        }
        if (kind, subtype) == (MEDIA_DEVICE_PATH, MEDIA_FILE_PATH) {
            text.push_str(&utf16_text(body.strip_suffix(&[0, 0]).unwrap_or(body))?);
        }
    }
    (!text.is_empty()).then_some(text)
}

/// The variable name in UEFI_VARIABLE_DATA.
pub(super) fn variable_name(data: &[u8]) -> Option<String> {
    let mut r = Reader::new(data);
    r.take(16)?;
    let units = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
    r.take(8)?;
    let bytes = usize::try_from(units).ok()?.checked_mul(2)?;
    utf16_text(r.take(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_use_uefi_mixed_endian_order() {
        assert_eq!(
            hex::encode(efi_global_variable_guid()),
            "61dfe48bca93d211aa0d00e098032b8c"
        );
        assert_eq!(
            hex::encode(efi_image_security_database_guid()),
            "cbb219d73a3d9645a3bcdad00e67656f"
        );
    }

    #[test]
    fn variable_data_layout() {
        let d = efi_variable_data(efi_global_variable_guid(), "SecureBoot", &[1]);
        assert_eq!(&d[..16], &efi_global_variable_guid());
        assert_eq!(&d[16..24], &10u64.to_le_bytes());
        assert_eq!(&d[24..32], &1u64.to_le_bytes());
        assert_eq!(&d[32..34], &[b'S', 0]);
        assert_eq!(d.len(), 32 + 20 + 1);
        assert_eq!(d.last(), Some(&1));
        assert_eq!(variable_name(&d).as_deref(), Some("SecureBoot"));
    }

    #[test]
    fn image_load_event_layout() {
        let path = r"\EFI\BOOT\BOOTX64.EFI";
        let d = efi_image_load_event(path);
        let path_bytes = 2 * (path.len() + 1);
        let dp_len = 4 + path_bytes + 4;
        assert_eq!(&d[24..32], &(dp_len as u64).to_le_bytes());
        assert_eq!(&d[32..36], &[4, 4, (4 + path_bytes) as u8, 0]);
        assert_eq!(&d[d.len() - 4..], &END_NODE);
        assert_eq!(d.len(), 32 + dp_len);
        assert_eq!(image_load_event_path(&d).as_deref(), Some(path));
    }

    #[test]
    fn long_paths_split_into_several_nodes_and_read_back_whole() {
        let path = "x".repeat(40_000);
        let d = efi_image_load_event(&path);
        assert_eq!(image_load_event_path(&d), Some(path));
    }

    #[test]
    fn malformed_structures_have_no_description() {
        assert_eq!(image_load_event_path(&[0; 10]), None);
        let mut d = efi_image_load_event("a");
        d[34] = 2; // node length below the 4-byte header
        assert_eq!(image_load_event_path(&d), None);
        assert_eq!(variable_name(&[0xff; 40]), None);
    }
}
