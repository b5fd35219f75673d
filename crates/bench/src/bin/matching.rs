//! Vulnerability matching (issue 5's figures): one inventory of 1,000 packages against a
//! whole distribution-sized database (goal: under 20 ms), and 10,000 stored inventories
//! matched again, as after a database update (goal: under 5 s). The baseline, in the same
//! run, is one hash-map lookup per package of the same inventories: the floor of any
//! matcher that must look each package up.
//!
//! The database is synthetic but shaped like Debian's OSV feed: 30,000 source packages, of
//! which 12,000 have advisories (60,000 records, one to several ranges each, some with
//! `last_affected`), plus Debian 13 entries that a Debian 12 inventory must skip.
//!
//! `cargo run --release -p ironroot-bench --bin ironroot-match-bench`
//!
//! `ironroot-match-bench --write-feed FILE [EXTRA]` writes the same database as one OSV
//! JSON array (plus EXTRA more records, as a later update would bring) for
//! scripts/bench-rescan.sh, which measures `ironroot rescan` on stored inventories.

use ironroot_pkgdb::{Ecosystem, Package};
use ironroot_vulndb::{Database, Distro};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SOURCES: usize = 30_000;
const VULNERABLE_SOURCES: usize = 12_000;
const RECORDS: usize = 60_000;
const INVENTORY: usize = 1_000;
const INVENTORIES: usize = 10_000;

/// A small deterministic generator (xorshift), so every run uses the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn version(major: u64, minor: u64, rev: u64) -> String {
    format!("{major}.{minor}.{}-{rev}+deb12u{}", minor % 7, rev % 5)
}

fn record(i: usize, rng: &mut Rng) -> String {
    let pkg = rng.below(VULNERABLE_SOURCES);
    let fixed = version(1 + rng.next() % 3, rng.next() % 20, 1 + rng.next() % 9);
    let second = if i.is_multiple_of(5) {
        r#",{"type":"ECOSYSTEM","events":[{"introduced":"0.5"},{"last_affected":"0.9.1-2"}]}"#
    } else {
        ""
    };
    format!(
        r#"{{"schema_version":"1.7.0","id":"DEBIAN-CVE-2026-{i:05}","modified":"2026-11-01T00:00:00Z",
        "aliases":["CVE-2026-{i:05}"],
        "severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}}],
        "affected":[
          {{"package":{{"ecosystem":"Debian:12","name":"src{pkg}"}},
            "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}{second}]}},
          {{"package":{{"ecosystem":"Debian:13","name":"src{pkg}"}},
            "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn inventory(rng: &mut Rng) -> Vec<Package> {
    (0..INVENTORY)
        .map(|_| {
            let src = rng.below(SOURCES);
            // Mostly newer than the fixes (an image kept up to date), so that about one
            // package in five has findings, as in a real Debian 12 image of this size.
            let v = version(2 + rng.next() % 3, rng.next() % 20, 1 + rng.next() % 9);
            let mut p = Package::new(Ecosystem::Dpkg, &format!("bin{src}"), &v);
            p.source_name = Some(format!("src{src}"));
            p
        })
        .collect()
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn write_feed(path: &str, extra: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let records: Vec<String> = (0..RECORDS + extra).map(|i| record(i, &mut rng)).collect();
    std::fs::write(path, format!("[{}]", records.join(",")))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--write-feed") {
        let path = args.get(2).ok_or("--write-feed FILE [EXTRA]")?;
        let extra = args.get(3).map_or(Ok(0), |e| e.parse())?;
        return write_feed(path, extra);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t = Instant::now();
    let records: Vec<String> = (0..RECORDS).map(|i| record(i, &mut rng)).collect();
    let mut db = Database::new();
    for r in &records {
        db.add_osv_json(r.as_bytes())?;
    }
    let load = t.elapsed();
    drop(records);
    let distro = Distro {
        id: "debian".into(),
        version_id: "12".into(),
    };
    let inventories: Vec<Vec<Package>> = (0..INVENTORIES).map(|_| inventory(&mut rng)).collect();

    // Baseline: one lookup per package in a map keyed like the database's.
    let floor_map: HashMap<String, u32> = (0..VULNERABLE_SOURCES)
        .map(|i| (format!("src{i}"), i as u32))
        .collect();
    let baseline = |inv: &[Package]| {
        inv.iter()
            .filter(|p| floor_map.contains_key(p.source_name_or_name()))
            .count()
    };

    let mut one = Vec::new();
    let mut one_base = Vec::new();
    let mut findings = 0;
    for inv in inventories.iter().take(200) {
        let t = Instant::now();
        findings += black_box(db.match_inventory(&distro, inv)).findings.len();
        one.push(t.elapsed());
        let t = Instant::now();
        black_box(baseline(inv));
        one_base.push(t.elapsed());
    }
    // The rescan on every core (inventories are independent).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let per = inventories.len().div_ceil(threads);
    let all_findings: usize = std::thread::scope(|s| {
        let handles: Vec<_> = inventories
            .chunks(per)
            .map(|chunk| {
                let (db, distro) = (&db, &distro);
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|inv| black_box(db.match_inventory(distro, inv)).findings.len())
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let rescan = t.elapsed();
    let t = Instant::now();
    for inv in &inventories {
        black_box(baseline(inv));
    }
    let rescan_base = t.elapsed();

    println!(
        "database: {RECORDS} OSV records over {VULNERABLE_SOURCES} of {SOURCES} source packages (Debian 12 and 13), loaded in {:.0} ms",
        ms(load)
    );
    println!(
        "one inventory of {INVENTORY} packages (200 runs): p50 {:.2} ms, p99 {:.2} ms; baseline p50 {:.3} ms ({:.0}x); {:.1} findings per inventory",
        ms(pct(one.clone(), 0.5)),
        ms(pct(one.clone(), 0.99)),
        ms(pct(one_base.clone(), 0.5)),
        pct(one, 0.5).as_secs_f64() / pct(one_base, 0.5).as_secs_f64().max(1e-9),
        findings as f64 / 200.0
    );
    println!(
        "rescan of {INVENTORIES} inventories ({} package matches): {:.2} s on {threads} threads; baseline {:.3} s on one ({:.0}x); {all_findings} findings",
        INVENTORIES * INVENTORY,
        rescan.as_secs_f64(),
        rescan_base.as_secs_f64(),
        rescan.as_secs_f64() / rescan_base.as_secs_f64().max(1e-9)
    );
    Ok(())
}
