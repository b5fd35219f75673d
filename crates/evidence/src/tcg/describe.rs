//! Short human descriptions of events for trust reports. Modest on purpose: it extracts
//! text the event already carries and never interprets structures beyond that.

use super::uefi::{image_load_event_path, variable_name};
use super::EventType;

/// Longest description, in characters; event data can be a megabyte.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Text for the event, or `None` when it carries nothing printable.
pub(super) fn describe(event_type: EventType, data: &[u8]) -> Option<String> {
    let text = match event_type {
        EventType::EfiBootServicesApplication
        | EventType::EfiBootServicesDriver
        | EventType::EfiRuntimeServicesDriver => image_load_event_path(data),
        EventType::EfiVariableDriverConfig
        | EventType::EfiVariableBoot
        | EventType::EfiVariableBoot2
        | EventType::EfiVariableAuthority => variable_name(data),
        EventType::Ipl
        | EventType::Action
        | EventType::EfiAction
        | EventType::PostCode
        | EventType::SCrtmVersion
        | EventType::CompactHash
        | EventType::NoAction => printable_text(data),
        _ => None,
    }?;
    Some(text.chars().take(MAX_DESCRIPTION_CHARS).collect())
}

/// `data` as text if it is printable UTF-8, or else printable UTF-16LE, ignoring
/// trailing NULs.
pub(super) fn printable_text(data: &[u8]) -> Option<String> {
    let utf8 = trim_nuls(data, 1);
    let as_utf8 = std::str::from_utf8(utf8)
        .ok()
        .and_then(|s| printable(s.to_string()));
    // UTF-16 ASCII text is valid UTF-8 with NULs in it, so fall through when not printable.
    as_utf8.or_else(|| utf16_text(trim_nuls(data, 2)))
}

/// Decodes UTF-16LE if it is printable ASCII. Firmware paths and variable names are
/// ASCII, and almost any binary decodes as some UTF-16, so wider text is not believed.
pub(super) fn utf16_text(data: &[u8]) -> Option<String> {
    let chunks = data.chunks_exact(2);
    if !chunks.remainder().is_empty() {
        return None;
    }
    let units = chunks.map(|c| u16::from_le_bytes([c[0], c[1]]));
    let text = char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()?;
    let ascii = text.chars().all(|c| c == ' ' || c.is_ascii_graphic());
    ascii.then(|| printable(text)).flatten()
}

fn trim_nuls(data: &[u8], width: usize) -> &[u8] {
    let mut end = data.len();
    while end >= width && data[end - width..end].iter().all(|b| *b == 0) {
        end -= width;
    }
    &data[..end]
}

fn printable(s: String) -> Option<String> {
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_and_utf16_text_are_printable() {
        assert_eq!(
            printable_text(b"grub_cmd linux\0").as_deref(),
            Some("grub_cmd linux")
        );
        let utf16: Vec<u8> = "BootOrder\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(printable_text(&utf16).as_deref(), Some("BootOrder"));
        assert_eq!(printable_text(&[0xff, 0x00, 0x01]), None);
        assert_eq!(printable_text(b""), None);
    }

    #[test]
    fn binary_events_fall_back_to_none() {
        assert_eq!(describe(EventType::Separator, &[0, 0, 0, 0]), None);
        assert_eq!(describe(EventType::Ipl, &[0x01, 0x02]), None);
    }

    #[test]
    fn long_text_is_cut() {
        let long = "a".repeat(1000);
        let d = describe(EventType::Ipl, long.as_bytes()).unwrap();
        assert_eq!(d.len(), MAX_DESCRIPTION_CHARS);
    }
}
