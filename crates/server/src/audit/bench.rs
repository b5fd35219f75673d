//! The audit log's figures (docs/benchmarks.md, "Audit log"), each an ignored test run by
//! hand in release mode that prints its figure beside a baseline of the same run:
//!
//! - the append rate on SQLite, against the same rows inserted in the same batches without
//!   the tree (no frontier read, no subtree rows): `audit::bench::append_rate`;
//! - inclusion proofs from a log of 10 million entries ([`proofs`]):
//!   `audit::bench::proofs`;
//! - a bundle of 100,000 entries for `ironroot audit verify` ([`export`]):
//!   `audit::bench::export`.
//!
//! `cargo test --release -p ironroot-server --lib audit::bench::append_rate -- --ignored --nocapture`

use super::store::multi_row_insert;
use super::{append, NewEntry};
use crate::store::{to_i64, Store};
use ironroot_testkit::databases::TempDir;
use std::time::Instant;

#[path = "bench_export.rs"]
mod export;
#[path = "bench_proofs.rs"]
mod proofs;

const ENTRIES: u64 = 100_000;
/// The verdict writer's largest batch.
const BATCH: u64 = 256;

/// The `n`th entry of every benchmark's log: a trust decision of one of 2,000 hosts.
pub(super) fn entry(n: u64) -> NewEntry {
    super::entries::trust_decision(
        &crate::store::ReportRow {
            report_id: format!("report-{n:08}-5f0c1d2e-6a7b"),
            host_id: format!("host-{:05}", n % 2000),
            created: 1_700_000_000 + n,
            expires: 1_700_000_030 + n,
            trusted: !n.is_multiple_of(10),
            report: String::new(),
            jws: format!("eyJhbGciOiJFUzI1NiJ9.{n}.sig"),
        },
        "node.example",
        ironroot_api::TrustState::Trusted,
    )
}

async fn with_tree(store: &Store) -> f64 {
    let start = Instant::now();
    for b in 0..ENTRIES / BATCH {
        let batch: Vec<_> = (b * BATCH..(b + 1) * BATCH).map(entry).collect();
        let mut tx = store.begin_write().await.unwrap();
        append(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    (ENTRIES / BATCH * BATCH) as f64 / start.elapsed().as_secs_f64()
}

async fn rows_only(store: &Store) -> f64 {
    let start = Instant::now();
    for b in 0..ENTRIES / BATCH {
        let mut tx = store.begin_write().await.unwrap();
        let rows: Vec<_> = (b * BATCH..(b + 1) * BATCH)
            .map(|n| (n, entry(n)))
            .collect();
        for chunk in rows.chunks(100) {
            let sql = multi_row_insert(
                "INSERT INTO audit_entries (idx, at, kind, actor, subject, body, leaf_hash) VALUES ",
                7,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for (n, e) in chunk {
                let data = e.at_index(*n).leaf_data().unwrap();
                let body = ironroot_api::canonical_json(&e.body).unwrap();
                q = q
                    .bind(to_i64(*n))
                    .bind(to_i64(e.at))
                    .bind(e.kind)
                    .bind(e.actor.clone())
                    .bind(e.subject.clone())
                    .bind(body)
                    .bind(ironroot_tlog::merkle::leaf_hash(&data).to_vec());
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    (ENTRIES / BATCH * BATCH) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand in release mode"]
async fn append_rate_on_sqlite() {
    let dir = TempDir::new("audit-bench");
    let tree = Store::open_sqlite(&dir.path().join("tree.db"))
        .await
        .unwrap();
    let rows = Store::open_sqlite(&dir.path().join("rows.db"))
        .await
        .unwrap();
    let baseline = rows_only(&rows).await;
    let logged = with_tree(&tree).await;
    assert_eq!(tree.audit_size().await.unwrap(), ENTRIES / BATCH * BATCH);
    println!(
        "audit append, SQLite, batches of {BATCH}: {logged:.0} entries/s with the tree, \
         {baseline:.0} rows/s without it (ratio {:.2}); target 10000 entries/s",
        logged / baseline
    );
}
