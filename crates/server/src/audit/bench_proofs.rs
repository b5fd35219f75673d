//! Inclusion proofs from a log of 10 million entries on SQLite: the log is built through
//! [`append`] in large batches (the same rows and subtrees the service writes), checked
//! against a root computed apart from the store, and then [`PROOFS`] proofs of random
//! entries are timed as the route makes them (the log's size, then
//! `Store::audit_inclusion`), beside a baseline of the same run: one primary-key read of a
//! subtree row. About 5 GB of disk.
//!
//! `IRONROOT_AUDIT_BENCH_DB=/var/tmp/audit-10m.db` keeps the database there (and reuses it
//! when it already holds the log); without it the log is built in a temporary directory
//! that is removed afterwards.
//!
//! `cargo test --release -p ironroot-server --lib audit::bench::proofs -- --ignored --nocapture`

use super::super::append;
use super::entry;
use crate::store::{to_i64, Store};
use ironroot_testkit::databases::TempDir;
use ironroot_tlog::merkle::{leaf_hash, verify_inclusion, Frontier, Hash};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SIZE: u64 = 10_000_000;
/// Entries per transaction while building: the rate of building is not the figure.
const BUILD_BATCH: u64 = 50_000;
const PROOFS: usize = 10_000;
/// Proofs checked against the independent root before timing.
const CHECKED: usize = 200;

/// A small deterministic generator (splitmix64): the same sample every run.
struct Sample(u64);

impl Sample {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

fn leaf(n: u64) -> Hash {
    leaf_hash(&entry(n).at_index(n).leaf_data().unwrap())
}

async fn build(store: &Store) {
    let have = store.audit_size().await.unwrap();
    assert!(
        have == 0 || have == SIZE,
        "the database holds {have} entries, neither none nor {SIZE}: remove it"
    );
    if have == SIZE {
        println!("reusing the log of {SIZE} entries");
        return;
    }
    let start = Instant::now();
    for b in 0..SIZE / BUILD_BATCH {
        let batch: Vec<_> = (b * BUILD_BATCH..(b + 1) * BUILD_BATCH)
            .map(entry)
            .collect();
        let mut tx = store.begin_write().await.unwrap();
        append(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
        if (b + 1) % 20 == 0 {
            println!(
                "built {} entries in {:.0} s",
                (b + 1) * BUILD_BATCH,
                start.elapsed().as_secs_f64()
            );
        }
    }
}

/// p50, p99 and the largest of `times`, in µs.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    (us(at(0.50)), us(at(0.99)), us(times[times.len() - 1]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand in release mode (about 5 GB of disk)"]
async fn proofs_from_ten_million_entries() {
    let tmp = TempDir::new("audit-bench-10m");
    let path = std::env::var_os("IRONROOT_AUDIT_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("log.db"));
    let store = Store::open_sqlite(&path).await.unwrap();
    build(&store).await;
    assert_eq!(store.audit_size().await.unwrap(), SIZE);

    // The root from the entries themselves, not from the store's subtrees.
    let mut frontier = Frontier::new();
    for n in 0..SIZE {
        frontier.push(leaf(n)).unwrap();
    }
    let root = frontier.root();
    assert_eq!(store.audit_root(SIZE).await.unwrap(), root);
    let mut sample = Sample(15);
    for _ in 0..CHECKED {
        let i = sample.below(SIZE);
        let proof = store.audit_inclusion(i, SIZE).await.unwrap();
        verify_inclusion(i, SIZE, &leaf(i), &proof, &root).unwrap();
    }

    let mut sample = Sample(9162);
    let mut proof_times = Vec::with_capacity(PROOFS);
    let mut read_times = Vec::with_capacity(PROOFS);
    for _ in 0..PROOFS {
        let (i, level) = (sample.below(SIZE), sample.below(20));
        let t = Instant::now();
        // What the route does: the size check, then the proof.
        assert_eq!(store.audit_size().await.unwrap(), SIZE);
        let proof = store.audit_inclusion(i, SIZE).await.unwrap();
        proof_times.push(t.elapsed());
        assert!(!proof.is_empty());
        let t = Instant::now();
        let row: Vec<u8> =
            sqlx::query_scalar("SELECT hash FROM audit_subtrees WHERE level = $1 AND idx = $2")
                .bind(to_i64(level))
                // A complete subtree: the last one of a level may not be yet.
                .bind(to_i64((i >> level).min((SIZE >> level) - 1)))
                .fetch_one(store.pool())
                .await
                .unwrap();
        read_times.push(t.elapsed());
        assert_eq!(row.len(), 32);
    }
    let (p50, p99, max) = percentiles(proof_times);
    let (b50, b99, _) = percentiles(read_times);
    println!(
        "audit inclusion proof, SQLite, {SIZE} entries, {PROOFS} random entries: \
         p50 {p50:.0} µs, p99 {p99:.0} µs, max {max:.0} µs (target p99 < 1000 µs); \
         baseline one subtree row by primary key: p50 {b50:.0} µs, p99 {b99:.0} µs \
         (ratio at p50 {:.1}); database {:.2} GB",
        p50 / b50,
        db_bytes(&path) as f64 / 1e9,
    );
}

/// The database with its WAL.
fn db_bytes(path: &std::path::Path) -> u64 {
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    size(path.to_owned()) + size(PathBuf::from(format!("{}-wal", path.display())))
}
