//! Parsing of the binary log. Every length is checked against a limit before anything
//! is allocated, and every field read can fail with `Truncated` naming that field.

use super::{
    hash_alg_from_tpm_id, Event, EventLog, EventLogError, EventType, SpecId, MAX_ALGORITHMS,
    MAX_EVENTS, MAX_EVENT_DATA_BYTES, MAX_LOG_BYTES, MAX_PCR_INDEX, STARTUP_LOCALITY_SIGNATURE,
};
use crate::reader::Reader;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use std::collections::BTreeMap;

/// Signature of the TCG_EfiSpecIDEvent for crypto-agile (TPM 2.0) logs.
pub(super) const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
/// Size of the SHA-1 digest field in the legacy TCG_PCR_EVENT that carries the header.
pub(super) const LEGACY_DIGEST_LEN: usize = 20;

/// Reads fields of one event, turning "ran out of bytes" into an error that names the
/// event, the field and where it started.
struct Fields<'r, 'a> {
    r: &'r mut Reader<'a>,
    index: u32,
}

impl<'a> Fields<'_, 'a> {
    fn truncated(&self, field: &'static str) -> EventLogError {
        EventLogError::Truncated {
            index: self.index,
            offset: self.r.offset(),
            field,
        }
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, EventLogError> {
        self.r.u8().ok_or_else(|| self.truncated(field))
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, EventLogError> {
        self.r.u16_le().ok_or_else(|| self.truncated(field))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, EventLogError> {
        self.r.u32_le().ok_or_else(|| self.truncated(field))
    }
    fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], EventLogError> {
        self.r.take(n).ok_or_else(|| self.truncated(field))
    }
    /// A u32 length, refused if over `limit` before anything is read or allocated.
    fn len(&mut self, field: &'static str, limit: usize) -> Result<usize, EventLogError> {
        let offset = self.r.offset();
        let size = usize::try_from(self.u32(field)?).unwrap_or(usize::MAX);
        if size > limit {
            return Err(EventLogError::TooLarge {
                index: self.index,
                offset,
                what: field,
                size,
                limit,
            });
        }
        Ok(size)
    }
}

pub(super) fn parse_log(bytes: &[u8]) -> Result<EventLog, EventLogError> {
    if bytes.len() > MAX_LOG_BYTES {
        return Err(EventLogError::TooLarge {
            index: 0,
            offset: 0,
            what: "log",
            size: bytes.len(),
            limit: MAX_LOG_BYTES,
        });
    }
    let mut r = Reader::new(bytes);
    let spec = parse_header(&mut r)?;
    let mut events = Vec::new();
    let mut locality = LocalityCheck::default();
    while !r.is_empty() {
        // The header counts as one of MAX_EVENTS.
        if events.len() + 1 >= MAX_EVENTS {
            return Err(EventLogError::TooManyEvents { limit: MAX_EVENTS });
        }
        let offset = r.offset();
        let index = u32::try_from(events.len() + 1).unwrap_or(u32::MAX);
        let event = parse_event(&mut Fields { r: &mut r, index }, &spec.algorithms)?;
        locality.check(&event, offset)?;
        events.push(event);
    }
    Ok(EventLog { spec, events })
}

/// The legacy-format first event and the TCG_EfiSpecIDEvent inside it.
fn parse_header(r: &mut Reader<'_>) -> Result<SpecId, EventLogError> {
    let mut f = Fields { r, index: 0 };
    let start = f.r.offset();
    let bad = |reason| EventLogError::BadSpecIdHeader {
        offset: start,
        reason,
    };
    let pcr = f.u32("pcrIndex")?;
    let event_type = f.u32("eventType")?;
    let digest = f.bytes(LEGACY_DIGEST_LEN, "digest")?;
    let size = f.len("eventSize", MAX_EVENT_DATA_BYTES)?;
    if pcr != 0 || event_type != EventType::NoAction.value() {
        return Err(bad("first event is not EV_NO_ACTION on PCR 0"));
    }
    if digest.iter().any(|b| *b != 0) {
        return Err(bad("first event has a non-zero digest"));
    }
    let body = f.bytes(size, "Spec ID event")?;
    let body_offset = f.r.offset() - size;
    let mut br = Reader::new(body);
    let spec = parse_spec_id(&mut Fields {
        r: &mut br,
        index: 0,
    })
    .map_err(|e| rebase(e, body_offset))?;
    if !br.is_empty() {
        return Err(bad("bytes after the vendor info"));
    }
    Ok(spec)
}

/// Errors inside the header body are found at offsets relative to the body.
fn rebase(e: EventLogError, base: usize) -> EventLogError {
    match e {
        EventLogError::Truncated {
            index,
            offset,
            field,
        } => EventLogError::Truncated {
            index,
            offset: base + offset,
            field,
        },
        EventLogError::BadSpecIdHeader { offset, reason } => EventLogError::BadSpecIdHeader {
            offset: base + offset,
            reason,
        },
        EventLogError::TooLarge {
            index,
            offset,
            what,
            size,
            limit,
        } => EventLogError::TooLarge {
            index,
            offset: base + offset,
            what,
            size,
            limit,
        },
        EventLogError::UnknownAlgorithm {
            index,
            offset,
            alg_id,
        } => EventLogError::UnknownAlgorithm {
            index,
            offset: base + offset,
            alg_id,
        },
        other => other,
    }
}

fn parse_spec_id(f: &mut Fields<'_, '_>) -> Result<SpecId, EventLogError> {
    let bad = |offset, reason| EventLogError::BadSpecIdHeader { offset, reason };
    if f.bytes(SPEC_ID_SIGNATURE.len(), "signature")? != SPEC_ID_SIGNATURE {
        return Err(bad(0, "signature is not \"Spec ID Event03\""));
    }
    let platform_class = f.u32("platformClass")?;
    let spec_version_minor = f.u8("specVersionMinor")?;
    let spec_version_major = f.u8("specVersionMajor")?;
    let spec_errata = f.u8("specErrata")?;
    let uintn_size = f.u8("uintnSize")?;
    if spec_version_major != 2 {
        return Err(bad(f.r.offset() - 3, "specVersionMajor is not 2"));
    }
    let count_offset = f.r.offset();
    let count = f.len("numberOfAlgorithms", MAX_ALGORITHMS)?;
    if count == 0 {
        return Err(bad(count_offset, "no algorithms"));
    }
    let mut algorithms = Vec::with_capacity(count);
    for _ in 0..count {
        let offset = f.r.offset();
        let alg_id = f.u16("algorithmId")?;
        let size = f.u16("digestSize")?;
        let alg = hash_alg_from_tpm_id(alg_id).ok_or(EventLogError::UnknownAlgorithm {
            index: 0,
            offset,
            alg_id,
        })?;
        if usize::from(size) != alg.len() {
            return Err(bad(offset, "digestSize does not match the algorithm"));
        }
        if algorithms.contains(&alg) {
            return Err(bad(offset, "algorithm listed twice"));
        }
        algorithms.push(alg);
    }
    let vendor_len = f.u8("vendorInfoSize")?;
    let vendor_info = f.bytes(usize::from(vendor_len), "vendorInfo")?.to_vec();
    Ok(SpecId {
        platform_class,
        spec_version_major,
        spec_version_minor,
        spec_errata,
        uintn_size,
        algorithms,
        vendor_info: Digest(vendor_info),
    })
}

/// One TCG_PCR_EVENT2.
fn parse_event(f: &mut Fields<'_, '_>, banks: &[HashAlg]) -> Result<Event, EventLogError> {
    let start = f.r.offset();
    let index = f.index;
    let pcr = f.u32("pcrIndex")?;
    if pcr > MAX_PCR_INDEX {
        return Err(EventLogError::PcrIndexOutOfRange {
            index,
            offset: start,
            pcr,
        });
    }
    let type_offset = f.r.offset();
    let value = f.u32("eventType")?;
    let event_type = EventType::from_value(value).ok_or(EventLogError::UnknownEventType {
        index,
        offset: type_offset,
        value,
    })?;
    let digests = parse_digests(f, banks)?;
    let size = f.len("eventSize", MAX_EVENT_DATA_BYTES)?;
    let data = f.bytes(size, "event data")?.to_vec();
    Ok(Event {
        index,
        pcr,
        event_type,
        digests,
        data: Digest(data),
    })
}

/// TPML_DIGEST_VALUES: exactly one digest for each header algorithm, in any order.
fn parse_digests(
    f: &mut Fields<'_, '_>,
    banks: &[HashAlg],
) -> Result<BTreeMap<HashAlg, Digest>, EventLogError> {
    let index = f.index;
    let count_offset = f.r.offset();
    let count = f.len("digest count", MAX_ALGORITHMS)?;
    if count != banks.len() {
        return Err(EventLogError::DigestCountMismatch {
            index,
            offset: count_offset,
            expected: banks.len(),
            found: count,
        });
    }
    let mut digests = BTreeMap::new();
    for _ in 0..count {
        let offset = f.r.offset();
        let alg_id = f.u16("hashAlg")?;
        let alg = hash_alg_from_tpm_id(alg_id).ok_or(EventLogError::UnknownAlgorithm {
            index,
            offset,
            alg_id,
        })?;
        if !banks.contains(&alg) || digests.contains_key(&alg) {
            return Err(EventLogError::UnexpectedDigest { index, offset, alg });
        }
        let d = f.bytes(alg.len(), "digest")?.to_vec();
        digests.insert(alg, Digest(d));
    }
    Ok(digests)
}

/// Enforces that a StartupLocality event is well formed, comes at most once, and comes
/// before PCR 0 is extended: later, it could not have been PCR 0's initial value.
#[derive(Default)]
struct LocalityCheck {
    seen: bool,
    pcr0_extended: bool,
}

impl LocalityCheck {
    fn check(&mut self, event: &Event, offset: usize) -> Result<(), EventLogError> {
        let bad = |reason| EventLogError::BadStartupLocality {
            index: event.index,
            offset,
            reason,
        };
        if event.pcr != 0 {
            return Ok(());
        }
        if event.event_type != EventType::NoAction {
            self.pcr0_extended = true;
            return Ok(());
        }
        if !event.data.0.starts_with(STARTUP_LOCALITY_SIGNATURE) {
            return Ok(());
        }
        if event.data.0.len() <= STARTUP_LOCALITY_SIGNATURE.len() {
            return Err(bad("has no locality byte"));
        }
        if self.seen {
            return Err(bad("appears twice"));
        }
        if self.pcr0_extended {
            return Err(bad("comes after PCR 0 was extended"));
        }
        self.seen = true;
        Ok(())
    }
}
