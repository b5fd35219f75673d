//! Store-level tests of the audit log on SQLite and on a throwaway PostgreSQL: appends from
//! concurrent tasks and from two `Store` handles on one database (two replicas) never fork
//! the tree; every proof served verifies with `ironroot_tlog`; checkpoints verify with the
//! published key and refuse to cover a log that lost rows.

use super::entries::{cluster_registered, SERVICE};
use super::{append, append_with, LogSigner, NewEntry};
use crate::store::Store;
use ironroot_testkit::databases::{PgCluster, TempDir};
use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::merkle::{self, MemoryTree};
use ironroot_tlog::note::{Ed25519NoteVerifier, NoteVerifier};

const TASKS: u64 = 4;
const BATCHES: u64 = 5;
const BATCH: u64 = 7;

fn entry(task: u64, n: u64) -> NewEntry {
    NewEntry {
        at: 1_700_000_000 + n,
        kind: "test.append",
        actor: SERVICE.to_owned(),
        subject: format!("task/{task}"),
        body: serde_json::json!({ "task": task, "n": n, "note": "line\nbreak \"quoted\"" }),
    }
}

/// Each of `TASKS` tasks per store appends `BATCHES` batches of `BATCH` entries.
async fn append_concurrently(stores: &[Store]) {
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..TASKS {
            let store = store.clone();
            let task = s as u64 * TASKS + t;
            tasks.push(tokio::spawn(async move {
                for b in 0..BATCHES {
                    let batch: Vec<_> = (0..BATCH).map(|i| entry(task, b * BATCH + i)).collect();
                    let mut tx = store.begin_write().await.unwrap();
                    // Half the tasks start from the store's cached edge, half load it:
                    // each must notice the other's appends.
                    let edge = if t % 2 == 0 { store.audit_edge() } else { None };
                    let range = append_with(edge, &mut tx, &batch).await.unwrap();
                    assert_eq!(range.end - range.start, BATCH);
                    tx.commit().await.unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The stored tree is the tree of the stored entries in index order, and its proofs
/// verify against the roots of that tree.
async fn assert_one_tree(store: &Store, expected: u64) {
    let size = store.audit_size().await.unwrap();
    assert_eq!(size, expected);
    let mut entries = Vec::new();
    while (entries.len() as u64) < size {
        let start = entries.len() as u64;
        let page = store
            .audit_entries(start..start + 1000, None)
            .await
            .unwrap();
        assert!(!page.is_empty());
        entries.extend(page);
    }
    let leaves: Vec<Vec<u8>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            assert_eq!(e.index, i as u64, "entries are numbered without gaps");
            e.leaf_data().unwrap()
        })
        .collect();
    let mut whole = MemoryTree::new();
    let mut roots = vec![merkle::empty_root()];
    for leaf in &leaves {
        whole.push_leaf_hash(merkle::leaf_hash(leaf));
        roots.push(whole.root());
    }
    assert_eq!(store.audit_root(size).await.unwrap(), whole.root());
    for n in [1, 2, 3, 8, 13, size / 2, size - 1, size] {
        assert_eq!(store.audit_root(n).await.unwrap(), roots[n as usize]);
        for index in [0, n / 3, n - 1] {
            let proof = store.audit_inclusion(index, n).await.unwrap();
            let leaf = merkle::leaf_hash(&leaves[index as usize]);
            merkle::verify_inclusion(index, n, &leaf, &proof, &roots[n as usize]).unwrap();
        }
        for from in [0, 1, n / 2, n] {
            let proof = store.audit_consistency(from, n).await.unwrap();
            let (a, b) = (&roots[from as usize], &roots[n as usize]);
            merkle::verify_consistency(from, n, a, b, &proof).unwrap();
        }
    }
}

/// A checkpoint signed now covers the whole log, verifies with the published key and
/// names the origin.
async fn assert_checkpoint(store: &Store, dir: &std::path::Path) {
    let signer = LogSigner::load_or_create(dir, "example.test/ironroot-log").unwrap();
    let note = signer.current(store).await.unwrap();
    let verifier = Ed25519NoteVerifier::parse(signer.verifier_key()).unwrap();
    let keys: [&dyn NoteVerifier; 1] = [&verifier];
    let (cp, _) = Checkpoint::open(note.as_bytes(), &keys).unwrap();
    assert_eq!(cp.origin, "example.test/ironroot-log");
    assert_eq!(cp.size, store.audit_size().await.unwrap());
    assert_eq!(cp.root, store.audit_root(cp.size).await.unwrap());
    // A second replica loads the same key from the shared data directory and serves the
    // same checkpoint until the log grows.
    let again = LogSigner::load_or_create(dir, "example.test/ironroot-log").unwrap();
    assert_eq!(again.verifier_key(), signer.verifier_key());
    assert_eq!(again.current(store).await.unwrap(), note);
}

async fn scenario(a: Store, b: Store, dir: &std::path::Path) {
    let stores = [a.clone(), b];
    append_concurrently(&stores).await;
    let expected = 2 * TASKS * BATCHES * BATCH;
    assert_one_tree(&a, expected).await;
    assert_checkpoint(&a, dir).await;
    // An append through a call site's own transaction shows up in the next checkpoint.
    let mut tx = a.begin_write().await.unwrap();
    let range = append(
        &mut tx,
        &[cluster_registered("bootstrap", "c1", "eu-1", "0a", 5)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(range, expected..expected + 1);
    assert_one_tree(&a, expected + 1).await;
    assert_checkpoint(&a, dir).await;
}

#[tokio::test]
async fn appends_from_two_replicas_never_fork_on_sqlite() {
    let dir = TempDir::new("audit");
    let db = dir.path().join("audit.db");
    let a = Store::open_sqlite(&db).await.unwrap();
    let b = Store::open_sqlite(&db).await.unwrap();
    scenario(a, b, dir.path()).await;
}

#[tokio::test]
async fn appends_from_two_replicas_never_fork_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    let dir = TempDir::new("audit");
    let a = Store::open_postgres(&pg.url()).await.unwrap();
    let b = Store::open_postgres(&pg.url()).await.unwrap();
    scenario(a, b, dir.path()).await;
}

#[tokio::test]
async fn a_log_that_lost_rows_is_not_signed_again() {
    let dir = TempDir::new("audit");
    let store = Store::open_sqlite(&dir.path().join("audit.db"))
        .await
        .unwrap();
    append_concurrently(std::slice::from_ref(&store)).await;
    let signer = LogSigner::load_or_create(dir.path(), "example.test/ironroot-log").unwrap();
    signer.current(&store).await.unwrap();
    // Truncation: the last entry goes.
    sqlx::query("DELETE FROM audit_entries WHERE idx = (SELECT MAX(idx) FROM audit_entries)")
        .execute(store.pool())
        .await
        .unwrap();
    let err = signer.current(&store).await.unwrap_err().to_string();
    assert!(
        err.contains("no longer matches its last checkpoint"),
        "{err}"
    );
}

#[tokio::test]
async fn a_changed_subtree_hash_is_not_signed_over() {
    let dir = TempDir::new("audit");
    let store = Store::open_sqlite(&dir.path().join("audit.db"))
        .await
        .unwrap();
    append_concurrently(std::slice::from_ref(&store)).await;
    let signer = LogSigner::load_or_create(dir.path(), "example.test/ironroot-log").unwrap();
    signer.current(&store).await.unwrap();
    // Rewriting history: the hash of the first 128 of the 140 leaves changes, then the
    // log grows.
    sqlx::query("UPDATE audit_subtrees SET hash = $1 WHERE level = 7 AND idx = 0")
        .bind(vec![0u8; 32])
        .execute(store.pool())
        .await
        .unwrap();
    let mut tx = store.begin_write().await.unwrap();
    append(&mut tx, &[entry(9, 9)]).await.unwrap();
    tx.commit().await.unwrap();
    let err = signer.current(&store).await.unwrap_err().to_string();
    assert!(
        err.contains("no longer matches its last checkpoint"),
        "{err}"
    );
}

#[test]
fn the_seed_file_is_private_and_a_bad_origin_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("audit");
    LogSigner::load_or_create(dir.path(), "a.test/log").unwrap();
    let mode = std::fs::metadata(dir.path().join("audit-log-ed25519.seed"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(LogSigner::load_or_create(dir.path(), "has space").is_err());
}

/// The cached right edge is only a guess: after an append whose transaction rolled back
/// (the cache ahead of the database), and after appends that did not use it, the next
/// cached append still extends the tree the database holds.
#[tokio::test]
async fn the_cached_edge_survives_a_rolled_back_append_and_other_writers() {
    let dir = TempDir::new("audit");
    let store = Store::open_sqlite(&dir.path().join("audit.db"))
        .await
        .unwrap();
    let edge = store.audit_edge();
    assert!(edge.is_some(), "SQLite's store keeps the edge");
    let batch = |from: u64, n: u64| (from..from + n).map(|i| entry(1, i)).collect::<Vec<_>>();
    let mut tx = store.begin_write().await.unwrap();
    append_with(edge, &mut tx, &batch(0, 5)).await.unwrap();
    tx.commit().await.unwrap();
    // Appended, then rolled back: the cache holds 8 entries, the database 5.
    let mut tx = store.begin_write().await.unwrap();
    append_with(edge, &mut tx, &batch(100, 3)).await.unwrap();
    tx.rollback().await.unwrap();
    // Another writer appends as many entries as were rolled back: the size matches the
    // cache again, but the last leaf does not.
    let mut tx = store.begin_write().await.unwrap();
    append(&mut tx, &batch(200, 3)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    let range = append_with(edge, &mut tx, &batch(300, 10)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(range, 8..18);
    assert_one_tree(&store, 18).await;
    // PostgreSQL's replicas share the log: their stores keep no edge.
    let Some(pg) = PgCluster::start() else { return };
    let replica = Store::open_postgres(&pg.url()).await.unwrap();
    assert!(replica.audit_edge().is_none());
}
