//! What only PostgreSQL has: an outage and restart under a live `Store`, and replicas
//! migrating and sweeping at once.

use super::{host, report};
use crate::store::{Store, StoreError, Verdict};
use ironroot_testkit::databases::PgCluster;
use std::time::{Duration, Instant};

/// Without an error mid-call the outage cannot be observed; `expect_unavailable`
/// also checks it came promptly, so a dead database never hangs a request.
async fn expect_unavailable<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, StoreError>>,
) {
    let started = Instant::now();
    let res = call.await;
    assert!(
        matches!(res, Err(StoreError::Unavailable(_))),
        "{what} with the database down: {res:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{what} hung");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_unavailable_and_the_pool_recovers() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open_postgres(&pg.url()).await.unwrap();
    store
        .put_host(&host("o1", "outage", b"ek-o"))
        .await
        .unwrap();

    pg.stop();
    expect_unavailable("host", store.host("o1")).await;
    expect_unavailable("enrollment", store.enrollment("x")).await;
    expect_unavailable(
        "insert_report",
        store.insert_report(&report("o-r", "o1", 1, true)),
    )
    .await;

    pg.start_again();
    assert_eq!(store.host("o1").await.unwrap().unwrap().hostname, "outage");
    store
        .insert_report(&report("o-r", "o1", 1, true))
        .await
        .unwrap();
    assert_eq!(
        store.latest_report("o1").await.unwrap().unwrap().report_id,
        "o-r"
    );
}

#[tokio::test]
async fn postgres_open_with_the_database_down_is_unavailable() {
    let Some(pg) = PgCluster::start() else { return };
    pg.stop();
    expect_unavailable("open", Store::open(&pg.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_migrate_concurrently_and_share_writes() {
    let Some(pg) = PgCluster::start() else { return };
    let url = pg.url();
    // Without the migrator's advisory lock, concurrent CREATE TABLEs collide.
    let opened = futures_join_all((0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { Store::open_postgres(&url).await })
    }))
    .await;
    let replicas: Vec<Store> = opened.into_iter().map(|r| r.unwrap().unwrap()).collect();

    replicas[0]
        .put_host(&host("shared", "replica-0", b"ek-s"))
        .await
        .unwrap();
    replicas[1].activate_host("shared", 42).await.unwrap();
    let seen = replicas[2].host("shared").await.unwrap().unwrap();
    assert_eq!(
        (seen.hostname.as_str(), seen.activated_at),
        ("replica-0", Some(42))
    );
    replicas[3].upsert_group("from-3", "{}").await.unwrap();
    // A lapsed deadline is claimed by exactly one replica even when all sweep at once.
    let v = Verdict {
        report: report("shared-r", "shared", 1, true),
        deadline: Some(50),
        expected: None,
        hostname: "replica-0".into(),
        reasons: vec![],
    };
    replicas[0].write_verdicts(&[v]).await.unwrap();
    let sweeps = futures_join_all(
        replicas
            .iter()
            .cloned()
            .map(|r| tokio::spawn(async move { r.expire_lapsed(60).await })),
    )
    .await;
    let claimed: usize = sweeps.into_iter().map(|r| r.unwrap().unwrap().len()).sum();
    assert_eq!(claimed, 1, "exactly one replica announces the expiry");
    // Every replica reads the same event log: the trust gained, then its expiry, once.
    for r in &replicas {
        let log: Vec<_> = r
            .events_after(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.event.host_id, e.event.trust.as_str()))
            .collect();
        assert_eq!(
            log,
            [
                ("shared".to_string(), "trusted"),
                ("shared".to_string(), "expired")
            ]
        );
    }
    assert_eq!(
        replicas[0].group("from-3").await.unwrap().as_deref(),
        Some("{}")
    );
}

/// PostgreSQL makes rows visible at COMMIT, not in `seq` order: a reader sees the later
/// event first, and the tailer's cursor hands out the earlier one when it commits.
#[tokio::test]
async fn postgres_events_committed_out_of_order_reach_the_tailer() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open(&pg.url()).await.unwrap();
    store
        .put_host(&host("o1", "first", b"ek-o1"))
        .await
        .unwrap();
    store
        .put_host(&host("o2", "second", b"ek-o2"))
        .await
        .unwrap();
    let verdict = |id: &str, host: &str| Verdict {
        report: report(id, host, 1, true),
        deadline: Some(1_000),
        expected: None,
        hostname: host.into(),
        reasons: vec![],
    };
    let mut cursor = crate::events::tail_cursor(store.latest_event_seq().await.unwrap());
    // The first transaction takes its seq and stays open; the second commits.
    let mut slow = store.pool().begin().await.unwrap();
    let slow_seq: i64 =
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('trust_events', 'seq'))")
            .fetch_one(&mut *slow)
            .await
            .unwrap();
    store
        .write_verdicts(&[verdict("o2-r", "o2")])
        .await
        .unwrap();
    let page = store.events_after(cursor.read_after(), 100).await.unwrap();
    let first: Vec<_> = cursor
        .accept(page, std::time::Instant::now())
        .into_iter()
        .map(|e| (e.seq, e.event.host_id))
        .collect();
    assert_eq!(first, [(slow_seq + 1, "o2".to_string())]);
    assert!(cursor.read_after() < slow_seq, "the gap is asked for again");
    sqlx::query(
        "INSERT INTO trust_events (seq, created, host_id, event) OVERRIDING SYSTEM VALUE \
         SELECT $1, created, 'o1', event FROM trust_events WHERE seq = $2",
    )
    .bind(slow_seq)
    .bind(slow_seq + 1)
    .execute(&mut *slow)
    .await
    .unwrap();
    slow.commit().await.unwrap();
    let page = store.events_after(cursor.read_after(), 100).await.unwrap();
    let late: Vec<_> = cursor
        .accept(page, std::time::Instant::now())
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        late,
        [slow_seq],
        "the late commit is handed out, the rest not again"
    );
}

async fn futures_join_all<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let handles: Vec<_> = handles.collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}
