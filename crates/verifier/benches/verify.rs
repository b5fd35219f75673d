//! Full verification of a host with ~100 boot events and 1,000 IMA entries against its
//! default-template flavors, compared with the bare replay of both logs (the baseline the
//! verifier cannot go below, since every evaluation replays them once).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use ironroot_evidence::{EventLogBuilder, EventType, ImaLog};
use ironroot_verifier::{flavors_from_host, FlavorTemplate};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn big_evidence() -> ironroot_verifier::Evidence {
    let mut b = EventLogBuilder::new(&BANKS).unwrap();
    for i in 0..100u32 {
        let pcr = [0, 1, 2, 3, 4, 7, 8, 9][i as usize % 8];
        b.measure(
            pcr,
            EventType::Ipl,
            format!("event {i}\0").as_bytes(),
            &i.to_le_bytes(),
        )
        .unwrap();
    }
    let log = ironroot_evidence::EventLog::parse(&b.to_bytes()).unwrap();
    let mut ima = ImaLog::default();
    ima.entries.push(ima_entry("boot_aggregate", b"aggregate"));
    for i in 0..1000u32 {
        ima.entries
            .push(ima_entry(&format!("/usr/lib/file-{i}"), &i.to_le_bytes()));
    }
    evidence_with(log, ima)
}

fn per_call(mut f: impl FnMut()) -> Duration {
    let runs = 200u32;
    f();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

fn main() {
    let ev = big_evidence();
    let flavors = flavors_from_host(&ev, &FlavorTemplate::default_uefi(), "bench", NOW).unwrap();
    let replay = per_call(|| {
        black_box(ev.event_log.as_ref().unwrap().replay());
        // The verifier replays the IMA list in the strongest bank only.
        black_box(ev.ima.as_ref().unwrap().replay(&[BANKS[1]]));
    });
    let verify = per_call(|| {
        let r = check(black_box(&ev), black_box(&flavors));
        assert!(r.trusted);
        black_box(r);
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("replay of both logs (baseline): {:8.1} µs", us(replay));
    println!(
        "full verify:                    {:8.1} µs  ({:.2}x baseline)",
        us(verify),
        us(verify) / us(replay)
    );
    // Negative or near zero means the verifier's own work is below the run-to-run noise.
    println!(
        "verify minus baseline:          {:8.1} µs",
        us(verify) - us(replay)
    );
}
