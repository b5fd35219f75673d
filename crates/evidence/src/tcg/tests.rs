//! Tests for the event log writer, replay and descriptions.

use super::*;
use ironroot_crypto::digest;

/// What the caller extended: PCR and per-bank digest, in order.
pub(super) type Extends = Vec<(u32, BTreeMap<HashAlg, Vec<u8>>)>;

/// A boot the way OVMF and shim measure it, with the digests the builder returned.
pub(super) fn sample_boot() -> (EventLogBuilder, Extends) {
    let mut b = EventLogBuilder::new(&[HashAlg::Sha1, HashAlg::Sha256]).unwrap();
    b.startup_locality(3).unwrap();
    let mut extends = Vec::new();
    let mut m = |b: &mut EventLogBuilder, pcr, t, data: &[u8], digested: &[u8]| {
        extends.push((pcr, b.measure(pcr, t, data, digested).unwrap()));
    };
    m(&mut b, 0, EventType::SCrtmVersion, b"1.0\0", b"1.0\0");
    m(
        &mut b,
        0,
        EventType::EfiPlatformFirmwareBlob,
        &[0; 16],
        b"firmware volume",
    );
    let sb = efi_variable_data(efi_global_variable_guid(), "SecureBoot", &[1]);
    m(&mut b, 7, EventType::EfiVariableDriverConfig, &sb, &sb);
    let db = efi_variable_data(efi_image_security_database_guid(), "db", b"certs");
    m(&mut b, 7, EventType::EfiVariableDriverConfig, &db, &db);
    for pcr in 0..=7 {
        m(&mut b, pcr, EventType::Separator, &[0; 4], &[0; 4]);
    }
    let app = efi_image_load_event(r"\EFI\BOOT\BOOTX64.EFI");
    m(
        &mut b,
        4,
        EventType::EfiBootServicesApplication,
        &app,
        b"shim image",
    );
    m(
        &mut b,
        8,
        EventType::Ipl,
        b"grub_cmd: linux /vmlinuz\0",
        b"linux /vmlinuz",
    );
    b.no_action(15, b"informational").unwrap();
    (b, extends)
}

#[test]
fn writer_output_parses_back_to_the_same_events() {
    let (b, extends) = sample_boot();
    let log = EventLog::parse(&b.to_bytes()).unwrap();
    assert_eq!(log.spec.algorithms, vec![HashAlg::Sha1, HashAlg::Sha256]);
    assert_eq!((log.spec.spec_version_major, log.spec.uintn_size), (2, 2));
    let measured: Vec<_> = log
        .events
        .iter()
        .filter(|e| e.event_type != EventType::NoAction)
        .collect();
    assert_eq!(measured.len(), extends.len());
    for (event, (pcr, digests)) in measured.iter().zip(&extends) {
        assert_eq!(event.pcr, *pcr);
        for (alg, d) in digests {
            assert_eq!(&event.digests[alg].0, d);
        }
    }
    assert_eq!(log.events[0].index, 1, "the header is event 0");
    assert_eq!(log.events.last().unwrap().data.0, b"informational");
}

#[test]
fn replay_equals_extending_what_the_writer_returned() {
    let (b, extends) = sample_boot();
    let mut expected = PcrValues::default();
    for bank in [HashAlg::Sha1, HashAlg::Sha256] {
        expected.set(bank, 0, locality_initial_value(bank, 3));
    }
    for (pcr, digests) in &extends {
        for (alg, d) in digests {
            expected.extend(*alg, *pcr, d);
        }
    }
    let replayed = EventLog::parse(&b.to_bytes()).unwrap().replay();
    assert_eq!(replayed, expected);
    assert!(
        replayed.get(HashAlg::Sha256, 15).is_none(),
        "EV_NO_ACTION not extended"
    );
}

#[test]
fn startup_locality_sets_last_byte_of_pcr0_initial_value() {
    let mut b = EventLogBuilder::new(&[HashAlg::Sha256]).unwrap();
    b.startup_locality(3).unwrap();
    let pcrs = EventLog::parse(&b.to_bytes()).unwrap().replay();
    let mut want = vec![0u8; 32];
    want[31] = 3;
    assert_eq!(pcrs.get(HashAlg::Sha256, 0).unwrap().0, want);

    b.measure(0, EventType::SCrtmVersion, b"v", b"v").unwrap();
    let pcrs = EventLog::parse(&b.to_bytes()).unwrap().replay();
    let mut input = want.clone();
    input.extend(digest(HashAlg::Sha256, b"v"));
    assert_eq!(
        pcrs.get(HashAlg::Sha256, 0).unwrap().0,
        digest(HashAlg::Sha256, &input)
    );
}

#[test]
fn locality_zero_and_no_locality_event_replay_alike() {
    let mut with = EventLogBuilder::new(&[HashAlg::Sha1]).unwrap();
    with.startup_locality(0).unwrap();
    let mut without = EventLogBuilder::new(&[HashAlg::Sha1]).unwrap();
    for b in [&mut with, &mut without] {
        b.measure(0, EventType::PostCode, b"x", b"x").unwrap();
    }
    let a = EventLog::parse(&with.to_bytes()).unwrap().replay();
    let b = EventLog::parse(&without.to_bytes()).unwrap().replay();
    assert_eq!(a, b);
}

#[test]
fn empty_log_replays_to_empty_banks() {
    let b = EventLogBuilder::new(&[HashAlg::Sha384]).unwrap();
    let log = EventLog::parse(&b.to_bytes()).unwrap();
    assert!(log.events.is_empty());
    let pcrs = log.replay();
    assert_eq!(pcrs.banks().collect::<Vec<_>>(), vec![HashAlg::Sha384]);
    assert!(pcrs.0[&HashAlg::Sha384].is_empty());
}

#[test]
fn builder_refuses_what_the_parser_would_reject() {
    assert_eq!(EventLogBuilder::new(&[]).unwrap_err(), BuildError::NoBanks);
    let mut b = EventLogBuilder::new(&[HashAlg::Sha256, HashAlg::Sha256]).unwrap();
    assert_eq!(b.banks(), &[HashAlg::Sha256]);
    assert_eq!(
        b.measure(24, EventType::Ipl, b"", b""),
        Err(BuildError::PcrIndexOutOfRange(24))
    );
    assert_eq!(
        b.measure(1, EventType::NoAction, b"", b""),
        Err(BuildError::NoActionMeasured)
    );
    let big = vec![0u8; MAX_EVENT_DATA_BYTES + 1];
    assert_eq!(
        b.measure(1, EventType::Ipl, &big, b""),
        Err(BuildError::EventTooLarge(big.len()))
    );
    b.measure(0, EventType::PostCode, b"", b"").unwrap();
    assert_eq!(
        b.startup_locality(3),
        Err(BuildError::MisplacedStartupLocality)
    );
    assert!(
        EventLog::parse(&b.to_bytes()).is_ok(),
        "refusals leave the log intact"
    );
}

#[test]
fn descriptions_show_text_or_type_name() {
    let (b, _) = sample_boot();
    let log = EventLog::parse(&b.to_bytes()).unwrap();
    let descriptions: Vec<String> = log.events.iter().map(Event::description).collect();
    assert!(descriptions.contains(&r"\EFI\BOOT\BOOTX64.EFI".to_string()));
    assert!(descriptions.contains(&"SecureBoot".to_string()));
    assert!(descriptions.contains(&"grub_cmd: linux /vmlinuz".to_string()));
    assert!(descriptions.contains(&"EV_SEPARATOR".to_string()));
    assert!(descriptions.contains(&"EV_EFI_PLATFORM_FIRMWARE_BLOB".to_string()));
}

#[test]
fn serialises_for_storage_and_reports() {
    let (b, _) = sample_boot();
    let log = EventLog::parse(&b.to_bytes()).unwrap();
    let json = serde_json::to_value(&log).unwrap();
    let ipl = &json["events"][14];
    assert_eq!(ipl["event_type"], "EV_IPL");
    assert_eq!(ipl["data"], hex::encode(b"grub_cmd: linux /vmlinuz\0"));
    assert_eq!(json["spec"]["algorithms"][1], "sha256");
    let back: EventLog = serde_json::from_value(json).unwrap();
    assert_eq!(back, log);
}
