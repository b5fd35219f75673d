//! Tests for every way the parser rejects an event log, on logs assembled byte by byte.

use super::tests::sample_boot;
use super::*;

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;

fn spec_body(algs: &[(u16, u16)]) -> Vec<u8> {
    let mut b = b"Spec ID Event03\0".to_vec();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&[0, 2, 0, 2]);
    b.extend_from_slice(&(algs.len() as u32).to_le_bytes());
    for (id, size) in algs {
        b.extend_from_slice(&id.to_le_bytes());
        b.extend_from_slice(&size.to_le_bytes());
    }
    b.push(0);
    b
}

fn header_with_body(body: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&3u32.to_le_bytes());
    h.extend_from_slice(&[0u8; 20]);
    h.extend_from_slice(&(body.len() as u32).to_le_bytes());
    h.extend_from_slice(body);
    h
}

fn header(algs: &[(u16, u16)]) -> Vec<u8> {
    header_with_body(&spec_body(algs))
}

fn raw_event(pcr: u32, event_type: u32, digests: &[(u16, usize)], data: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&pcr.to_le_bytes());
    e.extend_from_slice(&event_type.to_le_bytes());
    e.extend_from_slice(&(digests.len() as u32).to_le_bytes());
    for (id, len) in digests {
        e.extend_from_slice(&id.to_le_bytes());
        e.extend(std::iter::repeat_n(0xAB, *len));
    }
    e.extend_from_slice(&(data.len() as u32).to_le_bytes());
    e.extend_from_slice(data);
    e
}

/// A log with one well-formed event after a SHA-1 + SHA-256 header, and the event's offset.
fn two_bank_log_with(event: Vec<u8>) -> (Vec<u8>, usize) {
    let mut log = header(&[(SHA1, 20), (SHA256, 32)]);
    let offset = log.len();
    log.extend(event);
    (log, offset)
}

const BOTH: &[(u16, usize)] = &[(SHA1, 20), (SHA256, 32)];

#[test]
fn every_truncation_is_reported_as_truncated() {
    let (b, _) = sample_boot();
    let bytes = b.to_bytes();
    let full = EventLog::parse(&bytes).unwrap();
    let mut ok_cuts = 0;
    for cut in 0..bytes.len() {
        match EventLog::parse(&bytes[..cut]) {
            Ok(log) => {
                assert!(log.events.len() < full.events.len());
                assert_eq!(log.events[..], full.events[..log.events.len()]);
                ok_cuts += 1;
            }
            Err(EventLogError::Truncated { offset, .. }) => assert!(offset <= cut),
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
    assert_eq!(
        ok_cuts,
        full.events.len(),
        "one clean cut per record boundary"
    );
}

#[test]
fn truncation_names_the_field() {
    let (log, offset) = two_bank_log_with(raw_event(0, 4, BOTH, &[0; 4]));
    let fields = [
        (2, "pcrIndex"),
        (6, "eventType"),
        (10, "digest count"),
        (13, "hashAlg"),
        (20, "digest"),
        (12 + 22 + 34 + 2, "eventSize"),
        (12 + 22 + 34 + 4 + 1, "event data"),
    ];
    for (len, field) in fields {
        match EventLog::parse(&log[..offset + len]) {
            Err(EventLogError::Truncated {
                index: 1, field: f, ..
            }) => assert_eq!(f, field),
            other => panic!("cut {len}: {other:?}"),
        }
    }
    for (len, field) in [
        (3, "pcrIndex"),
        (27, "digest"),
        (30, "eventSize"),
        (40, "Spec ID event"),
    ] {
        match EventLog::parse(&log[..len]) {
            Err(EventLogError::Truncated {
                index: 0, field: f, ..
            }) => assert_eq!(f, field),
            other => panic!("header cut {len}: {other:?}"),
        }
    }
}

#[test]
fn header_errors() {
    let bad = |log: Vec<u8>| EventLog::parse(&log).unwrap_err();
    let mut body = spec_body(&[(SHA256, 32)]);
    body[0] = b'X';
    assert!(matches!(
        bad(header_with_body(&body)),
        EventLogError::BadSpecIdHeader { offset: 32, .. }
    ));
    let mut body = spec_body(&[(SHA256, 32)]);
    body[21] = 1; // specVersionMajor
    assert!(matches!(
        bad(header_with_body(&body)),
        EventLogError::BadSpecIdHeader { .. }
    ));
    assert!(matches!(
        bad(header(&[])),
        EventLogError::BadSpecIdHeader { .. }
    ));
    assert!(matches!(
        bad(header(&[(SHA256, 32); 9])),
        EventLogError::TooLarge {
            what: "numberOfAlgorithms",
            ..
        }
    ));
    assert!(matches!(
        bad(header(&[(SHA256, 20)])),
        EventLogError::BadSpecIdHeader { .. }
    ));
    assert!(matches!(
        bad(header(&[(SHA256, 32), (SHA256, 32)])),
        EventLogError::BadSpecIdHeader { .. }
    ));
    assert_eq!(
        bad(header(&[(0x0012, 32)])),
        EventLogError::UnknownAlgorithm {
            index: 0,
            offset: 32 + 28,
            alg_id: 0x0012
        }
    );
    let mut body = spec_body(&[(SHA256, 32)]);
    body.push(0);
    assert!(matches!(
        bad(header_with_body(&body)),
        EventLogError::BadSpecIdHeader { .. }
    ));
    let mut h = header(&[(SHA256, 32)]);
    h[4] = 4; // first event is EV_SEPARATOR
    assert!(matches!(
        bad(h),
        EventLogError::BadSpecIdHeader { offset: 0, .. }
    ));
    let mut h = header(&[(SHA256, 32)]);
    h[8] = 1; // legacy digest not zero
    assert!(matches!(bad(h), EventLogError::BadSpecIdHeader { .. }));
}

#[test]
fn event_errors_name_index_and_offset() {
    let parse = |event| {
        let (log, offset) = two_bank_log_with(event);
        (EventLog::parse(&log).unwrap_err(), offset)
    };
    let (e, o) = parse(raw_event(0, 0x13, BOTH, b""));
    assert_eq!(
        e,
        EventLogError::UnknownEventType {
            index: 1,
            offset: o + 4,
            value: 0x13
        }
    );
    let (e, o) = parse(raw_event(24, 4, BOTH, b""));
    assert_eq!(
        e,
        EventLogError::PcrIndexOutOfRange {
            index: 1,
            offset: o,
            pcr: 24
        }
    );
    let (e, o) = parse(raw_event(0, 4, &[(SHA256, 32)], b""));
    assert_eq!(
        e,
        EventLogError::DigestCountMismatch {
            index: 1,
            offset: o + 8,
            expected: 2,
            found: 1
        }
    );
    let (e, o) = parse(raw_event(0, 4, &[(SHA256, 32), (SHA256, 32)], b""));
    assert_eq!(
        e,
        EventLogError::UnexpectedDigest {
            index: 1,
            offset: o + 12 + 34,
            alg: HashAlg::Sha256
        }
    );
    let (e, _) = parse(raw_event(0, 4, &[(SHA1, 20), (0x000C, 48)], b""));
    assert!(matches!(
        e,
        EventLogError::UnexpectedDigest {
            alg: HashAlg::Sha384,
            ..
        }
    ));
    let (e, o) = parse(raw_event(0, 4, &[(SHA1, 20), (0x0012, 32)], b""));
    assert_eq!(
        e,
        EventLogError::UnknownAlgorithm {
            index: 1,
            offset: o + 12 + 22,
            alg_id: 0x0012
        }
    );
    let (e, _) = parse(raw_event(0, 4, &[(SHA1, 20); 9], b""));
    assert!(matches!(
        e,
        EventLogError::TooLarge {
            what: "digest count",
            size: 9,
            ..
        }
    ));
}

#[test]
fn oversized_event_and_log_are_refused_before_reading() {
    let mut event = raw_event(0, 4, BOTH, b"");
    let size_at = event.len() - 4;
    event[size_at..].copy_from_slice(&(MAX_EVENT_DATA_BYTES as u32 + 1).to_le_bytes());
    let (log, _) = two_bank_log_with(event);
    assert!(matches!(
        EventLog::parse(&log).unwrap_err(),
        EventLogError::TooLarge {
            index: 1,
            what: "eventSize",
            ..
        }
    ));
    let huge = vec![0u8; MAX_LOG_BYTES + 1];
    assert!(matches!(
        EventLog::parse(&huge).unwrap_err(),
        EventLogError::TooLarge { what: "log", .. }
    ));
}

#[test]
fn too_many_events() {
    let mut log = header(&[(SHA1, 20)]);
    let event = raw_event(1, 1, &[(SHA1, 20)], b"");
    for _ in 0..MAX_EVENTS - 1 {
        log.extend_from_slice(&event);
    }
    assert_eq!(EventLog::parse(&log).unwrap().events.len(), MAX_EVENTS - 1);
    log.extend_from_slice(&event);
    assert_eq!(
        EventLog::parse(&log).unwrap_err(),
        EventLogError::TooManyEvents { limit: MAX_EVENTS }
    );
}

#[test]
fn misplaced_or_malformed_startup_locality_is_rejected() {
    let loc = b"StartupLocality\0\x03";
    let cases = [
        vec![raw_event(0, 3, BOTH, loc), raw_event(0, 3, BOTH, loc)],
        vec![raw_event(0, 1, BOTH, b""), raw_event(0, 3, BOTH, loc)],
        vec![raw_event(0, 3, BOTH, b"StartupLocality\0")],
    ];
    for events in cases {
        let (mut log, _) = two_bank_log_with(Vec::new());
        log.extend(events.concat());
        assert!(matches!(
            EventLog::parse(&log).unwrap_err(),
            EventLogError::BadStartupLocality { .. }
        ));
    }
    // On another PCR it is just information.
    let (log, _) = two_bank_log_with(raw_event(1, 3, BOTH, loc));
    assert!(EventLog::parse(&log)
        .unwrap()
        .replay()
        .get(HashAlg::Sha1, 0)
        .is_none());
}

#[test]
fn mutated_logs_never_panic() {
    let (b, _) = sample_boot();
    let bytes = b.to_bytes();
    let mut accepted = 0;
    for pos in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut m = bytes.clone();
            m[pos] ^= flip;
            if let Ok(log) = EventLog::parse(&m) {
                let _ = log.replay();
                let _ = log.events.iter().map(Event::description).count();
                accepted += 1;
            }
        }
    }
    // Flips inside digests and event data still parse; structural flips do not.
    assert!(accepted > 0 && accepted < bytes.len() * 3);
}
