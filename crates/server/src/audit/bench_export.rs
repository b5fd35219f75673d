//! A bundle of [`ENTRIES`] entries for timing `ironroot audit verify`: a log built through
//! [`append`], its checkpoint signed by the service's [`LogSigner`], and the bundle's files
//! written with `ironroot_tlog::bundle`'s line writers from the entries and proofs the
//! store gives (what `ironroot audit export` writes from the routes' answers). The bundle
//! is verified once in process, timed beside a baseline of the same run (reading the three
//! files line by line); the directory is printed for the command-line figure:
//!
//! `IRONROOT_AUDIT_BUNDLE_DIR=/var/tmp/bundle-100k cargo test --release -p ironroot-server
//! --lib audit::bench::export -- --ignored --nocapture`, then
//! `time ironroot audit verify /var/tmp/bundle-100k --key-file /var/tmp/bundle-100k/log-key`.

use super::super::{append, LogSigner};
use super::entry;
use crate::store::Store;
use ironroot_testkit::databases::TempDir;
use ironroot_tlog::bundle::{self, BundleReaders};
use ironroot_tlog::note::Ed25519NoteVerifier;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const ENTRIES: u64 = 100_000;
const BATCH: u64 = 10_000;

async fn write_bundle(store: &Store, note: &str, key: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let create = |f: &str| BufWriter::new(std::fs::File::create(dir.join(f)).unwrap());
    let (mut entries, mut csv, mut proofs) = (
        create(bundle::ENTRIES_FILE),
        create(bundle::CSV_FILE),
        create(bundle::PROOFS_FILE),
    );
    write!(csv, "{}\r\n", bundle::CSV_HEADER).unwrap();
    for e in store.audit_entries(0..ENTRIES, None).await.unwrap() {
        let proof = store.audit_inclusion(e.index, ENTRIES).await.unwrap();
        entries
            .write_all(bundle::entry_line(&e).unwrap().as_bytes())
            .unwrap();
        csv.write_all(bundle::csv_row(&e).unwrap().as_bytes())
            .unwrap();
        proofs
            .write_all(bundle::proof_line(&e, &proof).unwrap().as_bytes())
            .unwrap();
    }
    for mut w in [entries, csv, proofs] {
        w.flush().unwrap();
    }
    std::fs::write(dir.join(bundle::CHECKPOINT_FILE), note).unwrap();
    std::fs::write(dir.join(bundle::KEY_FILE), format!("{key}\n")).unwrap();
}

fn open(dir: &Path, f: &str) -> BufReader<std::fs::File> {
    BufReader::with_capacity(256 * 1024, std::fs::File::open(dir.join(f)).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand in release mode"]
async fn export_of_100k_entries() {
    let tmp = TempDir::new("audit-bench-export");
    let dir = std::env::var_os("IRONROOT_AUDIT_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("bundle"));
    let store = Store::open_sqlite(&tmp.path().join("log.db"))
        .await
        .unwrap();
    for b in 0..ENTRIES / BATCH {
        let batch: Vec<_> = (b * BATCH..(b + 1) * BATCH).map(entry).collect();
        let mut tx = store.begin_write().await.unwrap();
        append(&mut tx, &batch).await.unwrap();
        tx.commit().await.unwrap();
    }
    let signer = LogSigner::load_or_create(tmp.path(), "bench.example/ironroot-log").unwrap();
    let note = signer.current(&store).await.unwrap();
    write_bundle(&store, &note, signer.verifier_key(), &dir).await;

    // Baseline: the files read line by line, nothing checked.
    let t = Instant::now();
    let mut bytes = 0;
    for f in [bundle::ENTRIES_FILE, bundle::PROOFS_FILE, bundle::CSV_FILE] {
        for line in open(&dir, f).lines() {
            bytes += line.unwrap().len();
        }
    }
    let read = t.elapsed().as_secs_f64();

    let key = Ed25519NoteVerifier::parse(signer.verifier_key()).unwrap();
    let t = Instant::now();
    let report = bundle::verify(
        &key,
        BundleReaders {
            checkpoint: note.as_bytes(),
            entries: &mut open(&dir, bundle::ENTRIES_FILE),
            proofs: &mut open(&dir, bundle::PROOFS_FILE),
            csv: &mut open(&dir, bundle::CSV_FILE),
        },
    )
    .unwrap();
    let verify = t.elapsed().as_secs_f64();
    assert!(report.ok(), "{:?}", report.first());
    assert_eq!(report.verified, ENTRIES);
    println!(
        "audit bundle of {ENTRIES} entries ({:.1} MB) in {}: verified in process in {verify:.2} s \
         (target < 5 s); baseline reading its lines {read:.2} s (ratio {:.1})",
        bytes as f64 / 1e6,
        dir.display(),
        verify / read,
    );
}
