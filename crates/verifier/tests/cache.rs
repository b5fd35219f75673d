//! The per-host evidence cache gives exactly the report a fresh parse and `verify` give,
//! and any byte that differs invalidates what it affects: a tampered host never inherits
//! an earlier verdict.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ironroot_crypto::HashAlg;
use ironroot_evidence::{EventLog, EventLogBuilder, EventType, ImaListBuilder, ImaLog};
use ironroot_tpm_wire::PcrValues;
use ironroot_verifier::{
    flavors_from_host, EvidenceCache, EvidenceCaches, EvidenceError, Flavor, FlavorGroup,
    FlavorTemplate, HostInfo, LogUse, TrustReport,
};
use std::sync::Arc;

/// A boot log whose kernel measurement is `kernel`: changing it changes only the bytes
/// of one digest, the length stays the same.
fn log_bytes(kernel: &[u8]) -> Vec<u8> {
    let mut b = EventLogBuilder::new(&BANKS).unwrap();
    b.startup_locality(0).unwrap();
    b.measure(0, EventType::SCrtmVersion, b"CRTM 1.0\0", b"crtm")
        .unwrap();
    for pcr in 0..=7 {
        b.measure(pcr, EventType::Separator, &[0; 4], &[0; 4])
            .unwrap();
    }
    b.measure(4, EventType::EfiBootServicesApplication, b"k\0", kernel)
        .unwrap();
    b.measure(8, EventType::Ipl, b"cmdline\0", b"ro").unwrap();
    b.measure(9, EventType::Ipl, b"/boot/initrd\0", b"initrd")
        .unwrap();
    b.to_bytes()
}

/// An ASCII IMA list of `n` files; `runc` is the content of the file in the middle.
fn ima_builder(n: u32, runc: &[u8]) -> ImaListBuilder {
    let mut b = ImaListBuilder::new();
    b.boot_aggregate(&[0x11; 32]).unwrap();
    for i in 0..n {
        let content = if i == n / 2 {
            runc.to_vec()
        } else {
            i.to_le_bytes().to_vec()
        };
        let d = ironroot_crypto::digest(HashAlg::Sha256, &content);
        b.measure(&format!("/usr/bin/tool-{i}"), HashAlg::Sha256, &d)
            .unwrap();
    }
    b
}

fn ima_bytes(n: u32, runc: &[u8]) -> Vec<u8> {
    ima_builder(n, runc).to_ascii().into_bytes()
}

/// What the TPM holds after the host booted with `log` and measured `ima`.
fn quote(log: &[u8], ima: &[u8]) -> PcrValues {
    quote_of(&EventLog::parse(log).unwrap(), &ImaLog::parse(ima).unwrap())
}

fn host(clock_ms: u64) -> HostInfo {
    HostInfo {
        host_id: HOST.into(),
        hostname: "a.example".into(),
        reset_count: 3,
        restart_count: 0,
        clock_ms,
        vendor: String::new(),
        asset_tag: None,
    }
}

struct Host {
    group: FlavorGroup,
    flavors: Arc<[Flavor]>,
}

/// Flavors made from the golden host: kernel "k1", 20 files, runc "good".
fn golden_host() -> Host {
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let mut cache = EvidenceCache::new();
    let ev = cache
        .update(quote(&log, &ima), Some(&log), Some(&ima), host(1))
        .unwrap();
    let flavors =
        flavors_from_host(ev.evidence(), &FlavorTemplate::default_uefi(), "g", NOW).unwrap();
    Host {
        group: FlavorGroup::default_group("automatic"),
        flavors: flavors.into(),
    }
}

/// The report without the cache: parse everything, then `verify`.
fn fresh(
    h: &Host,
    quoted: &PcrValues,
    log: Option<&[u8]>,
    ima: Option<&[u8]>,
    info: HostInfo,
    now: u64,
) -> Result<TrustReport, EvidenceError> {
    let mut cache = EvidenceCache::new();
    let ev = cache.update(quoted.clone(), log, ima, info)?;
    let evidence = ironroot_verifier::Evidence {
        quoted: quoted.clone(),
        event_log: log.map(EventLog::parse).transpose()?,
        ima: ima.map(ImaLog::parse).transpose()?,
        host: ev.evidence().host.clone(),
    };
    Ok(ironroot_verifier::verify(
        &evidence, &h.group, &h.flavors, now, 3600,
    ))
}

/// One attestation through `cache`, checked against a fresh evaluation.
fn attest(
    cache: &mut EvidenceCache,
    h: &Host,
    quoted: &PcrValues,
    log: Option<&[u8]>,
    ima: Option<&[u8]>,
    info: HostInfo,
    now: u64,
) -> Result<TrustReport, EvidenceError> {
    let want = fresh(h, quoted, log, ima, info.clone(), now);
    let got = cache
        .update(quoted.clone(), log, ima, info)
        .map(|ev| ev.verify(&h.group, &h.flavors, now, 3600));
    assert_eq!(got, want, "the cache must give what a fresh verify gives");
    got
}

fn uses(cache: &EvidenceCache) -> (LogUse, LogUse, bool) {
    let u = cache.last_use().unwrap();
    (u.event_log, u.ima, u.verdict_reused)
}

#[test]
fn an_unchanged_host_reuses_logs_and_verdict_with_new_timestamps() {
    let h = golden_host();
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let q = quote(&log, &ima);
    let mut cache = EvidenceCache::new();
    let first = attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(10), NOW).unwrap();
    assert!(first.trusted);
    assert_eq!(uses(&cache), (LogUse::Parsed, LogUse::Parsed, false));
    // The TPM clock moves on every quote; it does not invalidate the verdict.
    let again = attest(
        &mut cache,
        &h,
        &q,
        Some(&log),
        Some(&ima),
        host(20),
        NOW + 60,
    )
    .unwrap();
    assert_eq!(uses(&cache), (LogUse::Unchanged, LogUse::Unchanged, true));
    assert_eq!((again.created, again.expires), (NOW + 60, NOW + 60 + 3600));
}

#[test]
fn a_changed_event_log_byte_is_reparsed_and_untrusted() {
    let h = golden_host();
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let q = quote(&log, &ima);
    let mut cache = EvidenceCache::new();
    assert!(
        attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(1), NOW)
            .unwrap()
            .trusted
    );
    let forged = log_bytes(b"k2");
    assert_eq!(forged.len(), log.len());
    let r = attest(&mut cache, &h, &q, Some(&forged), Some(&ima), host(2), NOW).unwrap();
    assert_eq!(uses(&cache), (LogUse::Parsed, LogUse::Unchanged, false));
    assert!(!r.trusted);
    assert!(fault_names(&r).contains(&ironroot_verifier::FaultName::EventLogReplayMismatch));
    // Back to the genuine log: parsed again, trusted again.
    assert!(
        attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(3), NOW)
            .unwrap()
            .trusted
    );
    assert_eq!(uses(&cache), (LogUse::Parsed, LogUse::Unchanged, false));
}

#[test]
fn an_appended_ima_entry_is_parsed_alone_and_checked() {
    let h = golden_host();
    let log = log_bytes(b"k1");
    let mut b = ima_builder(20, b"good");
    let ima = b.to_ascii().into_bytes();
    let mut cache = EvidenceCache::new();
    attest(
        &mut cache,
        &h,
        &quote(&log, &ima),
        Some(&log),
        Some(&ima),
        host(1),
        NOW,
    )
    .unwrap();
    // A new file the flavor does not list: still trusted (SOFTWARE checks listed paths).
    b.measure("/usr/bin/new", HashAlg::Sha256, &[7; 32])
        .unwrap();
    let grown = b.to_ascii().into_bytes();
    let r = attest(
        &mut cache,
        &h,
        &quote(&log, &grown),
        Some(&log),
        Some(&grown),
        host(2),
        NOW,
    )
    .unwrap();
    assert_eq!(uses(&cache).1, LogUse::Appended { entries: 1 });
    assert!(r.trusted);
    // A listed file measured again with another digest: untrusted, still incremental.
    b.measure("/usr/bin/tool-3", HashAlg::Sha256, &[8; 32])
        .unwrap();
    let bad = b.to_ascii().into_bytes();
    let r = attest(
        &mut cache,
        &h,
        &quote(&log, &bad),
        Some(&log),
        Some(&bad),
        host(3),
        NOW,
    )
    .unwrap();
    assert_eq!(uses(&cache).1, LogUse::Appended { entries: 1 });
    assert!(!r.trusted);
    // The appended entry without the quote that covers it does not replay.
    b.measure("/usr/bin/other", HashAlg::Sha256, &[9; 32])
        .unwrap();
    let unquoted = b.to_ascii().into_bytes();
    let r = attest(
        &mut cache,
        &h,
        &quote(&log, &bad),
        Some(&log),
        Some(&unquoted),
        host(4),
        NOW,
    )
    .unwrap();
    assert!(!r.trusted);
    assert!(fault_names(&r).contains(&ironroot_verifier::FaultName::ImaReplayMismatch));
}

#[test]
fn an_ima_list_rewritten_in_the_middle_is_fully_reparsed() {
    let h = golden_host();
    let log = log_bytes(b"k1");
    let good = ima_bytes(20, b"good");
    let mut cache = EvidenceCache::new();
    attest(
        &mut cache,
        &h,
        &quote(&log, &good),
        Some(&log),
        Some(&good),
        host(1),
        NOW,
    )
    .unwrap();
    // Same length, one entry in the middle rewritten, and one entry appended: the old
    // bytes are no prefix, so the list is parsed whole and the rewrite is seen.
    let mut evil = ima_builder(20, b"evil");
    evil.measure("/usr/bin/new", HashAlg::Sha256, &[7; 32])
        .unwrap();
    let evil = evil.to_ascii().into_bytes();
    let mut honest = ima_builder(20, b"good");
    honest
        .measure("/usr/bin/new", HashAlg::Sha256, &[7; 32])
        .unwrap();
    let honest_quote = quote(&log, &honest.to_ascii().into_bytes());
    let r = attest(
        &mut cache,
        &h,
        &honest_quote,
        Some(&log),
        Some(&evil),
        host(2),
        NOW,
    )
    .unwrap();
    assert_eq!(uses(&cache).1, LogUse::Parsed);
    assert!(!r.trusted);
    // Even with a quote that matches the rewritten list, the digest is not allowed.
    let r = attest(
        &mut cache,
        &h,
        &quote(&log, &evil),
        Some(&log),
        Some(&evil),
        host(3),
        NOW,
    )
    .unwrap();
    assert!(!r.trusted);
    // A shortened list is no extension either.
    let short = ima_bytes(19, b"good");
    attest(
        &mut cache,
        &h,
        &quote(&log, &short),
        Some(&log),
        Some(&short),
        host(4),
        NOW,
    )
    .unwrap();
    assert_eq!(uses(&cache).1, LogUse::Parsed);
}

#[test]
fn an_unterminated_last_line_is_not_extended_in_place() {
    let h = golden_host();
    let log = log_bytes(b"k1");
    let mut b = ima_builder(20, b"good");
    let full = b.to_ascii().into_bytes();
    // Without its final newline the last line could be continued by the next bytes, so
    // the cache does not resume from it and parses the whole.
    let cut = &full[..full.len() - 1];
    let mut cache = EvidenceCache::new();
    attest(
        &mut cache,
        &h,
        &quote(&log, cut),
        Some(&log),
        Some(cut),
        host(1),
        NOW,
    )
    .unwrap();
    b.measure("/usr/bin/new", HashAlg::Sha256, &[7; 32])
        .unwrap();
    let grown = b.to_ascii().into_bytes();
    assert!(grown.starts_with(cut));
    let r = attest(
        &mut cache,
        &h,
        &quote(&log, &grown),
        Some(&log),
        Some(&grown),
        host(2),
        NOW,
    )
    .unwrap();
    assert_eq!(uses(&cache).1, LogUse::Parsed);
    assert!(r.trusted);
}

#[test]
fn changed_quoted_pcrs_host_facts_or_flavors_re_evaluate() {
    let h = golden_host();
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let q = quote(&log, &ima);
    let mut cache = EvidenceCache::new();
    attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(1), NOW).unwrap();
    let mut other = q.clone();
    other.set(HashAlg::Sha256, 0, vec![0xAB; 32]);
    let r = attest(&mut cache, &h, &other, Some(&log), Some(&ima), host(2), NOW).unwrap();
    assert_eq!(uses(&cache), (LogUse::Unchanged, LogUse::Unchanged, false));
    assert!(!r.trusted);
    assert!(
        attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(3), NOW)
            .unwrap()
            .trusted
    );
    assert!(!uses(&cache).2);
    // A reboot changes the reset count the report carries.
    let rebooted = HostInfo {
        reset_count: 4,
        ..host(4)
    };
    let r = attest(&mut cache, &h, &q, Some(&log), Some(&ima), rebooted, NOW).unwrap();
    assert_eq!((r.reset_count, uses(&cache).2), (4, false));
    // The operator removes the SOFTWARE flavor's allowance for tool-3: re-evaluated.
    let mut flavors = h.flavors.to_vec();
    for f in &mut flavors {
        for rule in &mut f.rules {
            if let ironroot_verifier::Rule::ImaFiles { files, .. } = rule {
                files.insert("/usr/bin/tool-3".into(), vec![]);
            }
        }
    }
    let stricter = Host {
        group: h.group.clone(),
        flavors: flavors.into(),
    };
    let r = attest(
        &mut cache,
        &stricter,
        &q,
        Some(&log),
        Some(&ima),
        host(5),
        NOW,
    )
    .unwrap();
    assert!(!uses(&cache).2);
    assert!(!r.trusted);
    let no_policies = Host {
        group: FlavorGroup {
            name: "automatic".into(),
            policies: vec![],
            schedule: None,
        },
        flavors: Arc::clone(&h.flavors),
    };
    assert!(
        !attest(
            &mut cache,
            &no_policies,
            &q,
            Some(&log),
            Some(&ima),
            host(6),
            NOW
        )
        .unwrap()
        .trusted
    );
}

#[test]
fn dropping_or_adding_a_log_invalidates_the_verdict() {
    let h = golden_host();
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let q = quote(&log, &ima);
    let mut cache = EvidenceCache::new();
    attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(1), NOW).unwrap();
    let r = attest(&mut cache, &h, &q, Some(&log), None, host(2), NOW).unwrap();
    assert_eq!(uses(&cache), (LogUse::Unchanged, LogUse::Absent, false));
    assert!(!r.trusted, "the SOFTWARE flavor needs the IMA list");
    attest(&mut cache, &h, &q, None, Some(&ima), host(3), NOW).unwrap();
    assert_eq!(uses(&cache), (LogUse::Absent, LogUse::Parsed, false));
    assert!(
        attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(4), NOW)
            .unwrap()
            .trusted
    );
}

#[test]
fn a_parse_error_empties_the_cache() {
    let h = golden_host();
    let (log, ima) = (log_bytes(b"k1"), ima_bytes(20, b"good"));
    let q = quote(&log, &ima);
    let mut cache = EvidenceCache::new();
    attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(1), NOW).unwrap();
    // A malformed appended line fails like the whole list would.
    let broken = [ima.as_slice(), b"10 zz ima-ng\n"].concat();
    assert!(matches!(
        attest(&mut cache, &h, &q, Some(&log), Some(&broken), host(2), NOW),
        Err(EvidenceError::Ima(_))
    ));
    assert_eq!(cache.last_use(), None);
    attest(&mut cache, &h, &q, Some(&log), Some(&ima), host(3), NOW).unwrap();
    assert_eq!(uses(&cache), (LogUse::Parsed, LogUse::Parsed, false));
    let mut bad_log = log.clone();
    bad_log[0] = 1;
    assert!(matches!(
        attest(&mut cache, &h, &q, Some(&bad_log), Some(&ima), host(4), NOW),
        Err(EvidenceError::EventLog(_))
    ));
    assert_eq!(cache.last_use(), None);
}

/// A long run of attestations mixing genuine growth, tampering, reboots and switches
/// between the ASCII and binary forms; after every one the cache agrees with a fresh
/// evaluation (checked inside `attest`).
#[test]
fn any_sequence_of_attestations_matches_fresh_evaluations() {
    let h = golden_host();
    let logs = [log_bytes(b"k1"), log_bytes(b"k2")];
    let mut lists: Vec<Vec<u8>> = Vec::new();
    for n in [18u32, 19, 20, 21] {
        for runc in [&b"good"[..], b"evil"] {
            let b = ima_builder(n, runc);
            lists.push(b.to_ascii().into_bytes());
            lists.push(b.to_binary());
        }
    }
    let mut cache = EvidenceCache::new();
    let mut seed = 0x2545_f491_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for step in 0..300u64 {
        let log = &logs[next(2)];
        let ima = &lists[next(lists.len())];
        // Mostly the quote of what is sent; sometimes the quote of something else.
        let q = if next(4) == 0 {
            quote(&logs[next(2)], &lists[next(lists.len())])
        } else {
            quote(log, ima)
        };
        let log = (next(10) != 0).then_some(log.as_slice());
        let ima = (next(10) != 0).then_some(ima.as_slice());
        let _ = attest(&mut cache, &h, &q, log, ima, host(step), NOW + step);
    }
}

/// A cache holding `ima` for the golden boot log.
fn filled(ima: &[u8]) -> EvidenceCache {
    let log = log_bytes(b"k1");
    let mut cache = EvidenceCache::new();
    cache
        .update(quote(&log, ima), Some(&log), Some(ima), host(1))
        .unwrap();
    assert!(cache.retained_bytes() >= log.len() + ima.len());
    cache
}

#[test]
fn a_flood_of_hosts_cannot_grow_the_evidence_caches_past_their_bound() {
    let ima = ima_bytes(5, b"good");
    let mut caches = EvidenceCaches::new(3, usize::MAX);
    for i in 0..10 {
        caches.put(format!("host-{i}"), filled(&ima));
        assert!(caches.len() <= 3);
    }
    assert_eq!(caches.len(), 3);
    // The least recently used went first; a host used again moves to the back.
    assert!(caches.take("host-6").last_use().is_none(), "evicted");
    let seven = caches.take("host-7");
    assert!(seven.last_use().is_some());
    caches.put("host-7".into(), seven);
    caches.put("host-10".into(), filled(&ima));
    assert!(caches.take("host-8").last_use().is_none(), "evicted");
    for kept in ["host-7", "host-9", "host-10"] {
        assert!(caches.take(kept).last_use().is_some(), "{kept}");
    }
    assert!(caches.is_empty());
    assert_eq!(caches.bytes(), 0, "taken caches count for nothing");
}

#[test]
fn ever_growing_logs_cannot_grow_the_evidence_caches_past_their_byte_bound() {
    let small = filled(&ima_bytes(5, b"good"));
    let each = small.retained_bytes() * 2;
    let mut caches = EvidenceCaches::new(usize::MAX, each * 2);
    for i in 0..5 {
        caches.put(format!("host-{i}"), filled(&ima_bytes(5, b"good")));
        assert!(caches.bytes() <= each * 2);
    }
    assert_eq!(caches.len(), 2);
    // A host whose logs alone exceed the bound is not kept at all, and evicts nobody.
    caches.put("huge".into(), filled(&ima_bytes(2_000, b"good")));
    assert!(caches.take("huge").last_use().is_none());
    assert_eq!(caches.len(), 2);
    caches.remove("host-4");
    assert_eq!((caches.len(), caches.bytes()), (1, each));
}
