//! The same scenarios against SQLite and a throwaway PostgreSQL cluster, plus what only
//! PostgreSQL has: an outage and restart under a live `Store`, and replicas migrating at
//! once. Without PostgreSQL they fail, unless IRONROOT_ALLOW_SKIP=1 (a developer machine).

mod nodes;
mod postgres;
mod trust;

use super::{ClockCheck, FlavorRow, HostRow, Location, ReportRow, Store, StoreError};
use ironroot_testkit::databases::{PgCluster, TempDir};
use std::path::PathBuf;

pub(super) fn host(id: &str, name: &str, ek: &[u8]) -> HostRow {
    HostRow {
        host_id: id.into(),
        hostname: name.into(),
        hardware_uuid: format!("uuid-{id}"),
        ek_public: ek.to_vec(),
        ek_certificate: None,
        ak_public: vec![1, 2, 3],
        ak_name: vec![4, 5],
        ak_qualified_name: vec![6],
        enrolled_at: 1_700_000_000,
        activated_at: None,
        flavor_group: "automatic".into(),
        reset_count: None,
        restart_count: None,
        clock: None,
        trust_state: ironroot_api::TrustState::INITIAL,
        tag_digest: None,
        tag_json: None,
        cert_serial: None,
        k8s_node: None,
        kubelet_pod_pids_limit: None,
    }
}

pub(super) fn report(id: &str, host_id: &str, created: u64, trusted: bool) -> ReportRow {
    ReportRow {
        report_id: id.into(),
        host_id: host_id.into(),
        created,
        expires: created + 3600,
        trusted,
        report: format!("{{\"id\":\"{id}\"}}"),
        jws: format!("jws-{id}"),
    }
}

fn flavor(id: &str, created: u64) -> FlavorRow {
    FlavorRow {
        flavor_id: id.into(),
        part: "platform".into(),
        label: format!("label-{id}"),
        created,
        flavor: format!("{{\"flavor\":\"{id}\"}}"),
    }
}

fn report_ids(rows: &[ReportRow]) -> Vec<&str> {
    rows.iter().map(|r| r.report_id.as_str()).collect()
}

fn flavor_ids(rows: &[FlavorRow]) -> Vec<&str> {
    rows.iter().map(|f| f.flavor_id.as_str()).collect()
}

async fn hosts_upsert_lookup_activate(store: &Store) {
    let mut h = host("h1", "node-b", b"ek-1");
    h.ek_certificate = Some(b"cert".to_vec());
    store.put_host(&h).await.unwrap();
    store
        .put_host(&host("h2", "node-a", b"ek-2"))
        .await
        .unwrap();

    let got = store.host_by_ek(b"ek-1").await.unwrap().unwrap();
    assert_eq!(got.host_id, "h1");
    assert_eq!(got.ek_certificate.as_deref(), Some(&b"cert"[..]));
    assert_eq!(got.ak_qualified_name, vec![6]);
    assert_eq!(got.activated_at, None);
    assert!(store.host("nope").await.unwrap().is_none());
    assert!(store.host_by_ek(b"nope").await.unwrap().is_none());
    let names: Vec<_> = store
        .hosts()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.hostname)
        .collect();
    assert_eq!(names, ["node-a", "node-b"]);

    store.activate_host("h1", 1_700_000_100).await.unwrap();
    assert_eq!(
        store
            .advance_clock("h1", 7, 2, u64::from(u32::MAX) + 5)
            .await
            .unwrap(),
        ClockCheck::Advanced
    );
    store.set_last_evidence("h1", "{\"e\":1}").await.unwrap();
    let got = store.host("h1").await.unwrap().unwrap();
    assert_eq!(got.activated_at, Some(1_700_000_100));
    assert_eq!((got.reset_count, got.restart_count), (Some(7), Some(2)));
    assert_eq!(got.clock, Some(u64::from(u32::MAX) + 5));
    assert_eq!(
        store.last_evidence("h1").await.unwrap().as_deref(),
        Some("{\"e\":1}")
    );
    assert_eq!(store.last_evidence("h2").await.unwrap(), None);

    // Writing the host again resets its boot counters.
    store
        .put_host(&host("h1", "node-b2", b"ek-1"))
        .await
        .unwrap();
    let got = store.host("h1").await.unwrap().unwrap();
    assert_eq!(
        (got.hostname.as_str(), got.activated_at, got.clock),
        ("node-b2", None, None)
    );
    assert_eq!(got.ek_certificate, None);

    // The same EK under a new host id replaces the old host.
    store
        .put_host(&host("h3", "node-c", b"ek-1"))
        .await
        .unwrap();
    assert!(store.host("h1").await.unwrap().is_none());
    assert_eq!(
        store.host_by_ek(b"ek-1").await.unwrap().unwrap().host_id,
        "h3"
    );
}

fn enrollment(id: &str, host_id: &str, ak: u8, ek: &[u8]) -> super::EnrollmentRow {
    super::EnrollmentRow {
        enrollment_id: id.into(),
        host_id: host_id.into(),
        hostname: format!("enrollee-{host_id}"),
        hardware_uuid: "u".into(),
        ek_public: ek.to_vec(),
        ek_certificate: None,
        ak_public: vec![ak; 4],
        ak_name: vec![ak; 2],
        ak_qualified_name: vec![ak],
        secret_sha256: vec![ak; 32],
        source: "127.0.0.1:1".into(),
        created_at: 1_700_000_000,
        expires_at: 1_700_000_500,
    }
}

async fn enrollment_is_taken_once(store: &Store) {
    use super::ActivationRefused as R;
    let now = 1_700_000_100;
    store
        .insert_enrollment(&enrollment("e1", "e-host", 1, b"ek-e"))
        .await
        .unwrap();
    // Nothing about the host exists before the answer.
    assert!(store.host("e-host").await.unwrap().is_none());
    let wrong = store
        .activate_enrollment("e1", &[2; 32], now, "serial-x")
        .await
        .unwrap();
    assert_eq!(
        wrong.unwrap_err(),
        R::WrongSecret {
            host_id: "e-host".into()
        }
    );
    assert!(
        store.host("e-host").await.unwrap().is_none(),
        "a wrong answer changes nothing"
    );
    assert_eq!(
        store
            .activate_enrollment("e1", &[1; 32], now, "s")
            .await
            .unwrap()
            .unwrap_err(),
        R::Unknown,
        "a challenge is answered once, right or wrong"
    );
    store
        .insert_enrollment(&enrollment("e2", "e-host", 1, b"ek-e"))
        .await
        .unwrap();
    store
        .activate_enrollment("e2", &[1; 32], now, "serial-1")
        .await
        .unwrap()
        .unwrap();
    let h = store.host("e-host").await.unwrap().unwrap();
    assert_eq!(
        (h.ak_public.clone(), h.activated_at),
        (vec![1; 4], Some(now))
    );
    assert_eq!(h.cert_serial.as_deref(), Some("serial-1"));
    // A pending re-enrollment with another AK leaves the activated host as it is.
    store
        .insert_enrollment(&enrollment("e3", "e-host", 3, b"ek-e"))
        .await
        .unwrap();
    let same = store.host("e-host").await.unwrap().unwrap();
    assert_eq!(
        (same.ak_public, same.cert_serial),
        (vec![1; 4], Some("serial-1".into()))
    );
    // An expired challenge cannot be answered, and is pruned.
    assert_eq!(
        store
            .activate_enrollment("e3", &[3; 32], 1_700_000_500, "s")
            .await
            .unwrap()
            .unwrap_err(),
        R::Expired
    );
    store
        .insert_enrollment(&enrollment("e4", "other", 4, b"ek-o"))
        .await
        .unwrap();
    let mut legacy = host("legacy", "never-activated", b"ek-legacy");
    legacy.enrolled_at = 1_600_000_000;
    store.put_host(&legacy).await.unwrap();
    assert_eq!(
        store
            .prune_enrollments(1_700_000_600, 1_650_000_000)
            .await
            .unwrap(),
        2,
        "the expired enrollment and the host that never activated"
    );
    assert!(store.host("legacy").await.unwrap().is_none());
    assert!(store.enrollment("e4").await.unwrap().is_none());
    // Another EK cannot take an enrolled host's name.
    let mut squat = enrollment("e5", "squatter", 5, b"ek-squat");
    squat.hostname = "enrollee-e-host".into();
    store.insert_enrollment(&squat).await.unwrap();
    assert_eq!(
        store
            .activate_enrollment("e5", &[5; 32], now, "s")
            .await
            .unwrap()
            .unwrap_err(),
        R::NameTaken {
            hostname: "enrollee-e-host".into()
        }
    );
    // Renewal replaces the serial only while the old one is current.
    assert!(store
        .renew_cert_serial("e-host", "serial-1", "serial-2")
        .await
        .unwrap());
    assert!(!store
        .renew_cert_serial("e-host", "serial-1", "serial-3")
        .await
        .unwrap());

    // Racing answers to one challenge: exactly one activates.
    for round in 0..20u8 {
        let id = format!("race-{round}");
        store
            .insert_enrollment(&enrollment(&id, "e-host", 1, b"ek-e"))
            .await
            .unwrap();
        let (a, b) = (store.clone(), store.clone());
        let (ida, idb) = (id.clone(), id.clone());
        let ta = tokio::spawn(async move { a.activate_enrollment(&ida, &[1; 32], now, "a").await });
        let tb = tokio::spawn(async move { b.activate_enrollment(&idb, &[1; 32], now, "b").await });
        let (ra, rb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
        assert_eq!(
            usize::from(ra.is_ok()) + usize::from(rb.is_ok()),
            1,
            "round {round}: exactly one answer must activate"
        );
    }
}

async fn reports_latest_and_ranges(store: &Store) {
    store
        .put_host(&host("r-host", "reported", b"ek-r"))
        .await
        .unwrap();
    store
        .put_host(&host("r-other", "other", b"ek-r2"))
        .await
        .unwrap();
    assert!(store.latest_report("r-host").await.unwrap().is_none());
    store
        .insert_report(&report("r1", "r-host", 100, true))
        .await
        .unwrap();
    store
        .insert_report(&report("r2", "r-host", 200, false))
        .await
        .unwrap();
    // Same second as r2: insertion order decides which is latest.
    store
        .insert_report(&report("r3", "r-host", 200, true))
        .await
        .unwrap();
    store
        .insert_report(&report("x1", "r-other", 150, true))
        .await
        .unwrap();

    let latest = store.latest_report("r-host").await.unwrap().unwrap();
    assert_eq!((latest.report_id.as_str(), latest.trusted), ("r3", true));
    let r2 = store.report("r2").await.unwrap().unwrap();
    assert_eq!((r2.created, r2.expires, r2.trusted), (200, 3800, false));
    assert_eq!(
        (r2.report.as_str(), r2.jws.as_str()),
        ("{\"id\":\"r2\"}", "jws-r2")
    );
    assert!(store.report("missing").await.unwrap().is_none());

    let range = |from, to, limit| store.reports_for_host("r-host", from, to, limit);
    assert_eq!(
        report_ids(&range(0, u64::MAX, 10).await.unwrap()),
        ["r3", "r2", "r1"]
    );
    assert_eq!(
        report_ids(&range(150, 200, 10).await.unwrap()),
        ["r3", "r2"]
    );
    assert_eq!(report_ids(&range(0, 150, 10).await.unwrap()), ["r1"]);
    assert_eq!(report_ids(&range(0, 1000, 1).await.unwrap()), ["r3"]);
    assert!(range(201, 300, 10).await.unwrap().is_empty());
}

async fn flavors_and_groups(store: &Store) {
    assert!(store.group("g1").await.unwrap().is_none());
    store.upsert_group("g1", "{\"v\":1}").await.unwrap();
    store.upsert_group("g0", "{}").await.unwrap();
    store.upsert_group("g1", "{\"v\":2}").await.unwrap();
    assert_eq!(
        store.group("g1").await.unwrap().as_deref(),
        Some("{\"v\":2}")
    );
    let groups = store.groups().await.unwrap();
    assert_eq!(
        groups,
        [
            ("g0".into(), "{}".into()),
            ("g1".into(), "{\"v\":2}".into())
        ]
    );

    store
        .insert_flavors(&[flavor("f2", 20), flavor("f1", 10)], "g1")
        .await
        .unwrap();
    store
        .insert_flavors(&[flavor("f3", 30)], "g0")
        .await
        .unwrap();
    assert_eq!(
        flavor_ids(&store.flavors(Some("g1")).await.unwrap()),
        ["f1", "f2"]
    );
    assert_eq!(
        flavor_ids(&store.flavors(None).await.unwrap()),
        ["f1", "f2", "f3"]
    );
    assert_eq!(
        store.flavors(Some("g1")).await.unwrap()[0].label,
        "label-f1"
    );

    // All or nothing: f4 is not kept when its group does not exist.
    let err = store
        .insert_flavors(&[flavor("f4", 40)], "no-such-group")
        .await;
    assert!(err.is_err());
    assert_eq!(
        flavor_ids(&store.flavors(None).await.unwrap()),
        ["f1", "f2", "f3"]
    );

    assert!(store.delete_flavor("f1").await.unwrap());
    assert!(!store.delete_flavor("f1").await.unwrap());
    assert_eq!(
        flavor_ids(&store.flavors(Some("g1")).await.unwrap()),
        ["f2"]
    );
}

async fn shared_scenarios(store: &Store) {
    hosts_upsert_lookup_activate(store).await;
    enrollment_is_taken_once(store).await;
    reports_latest_and_ranges(store).await;
    flavors_and_groups(store).await;
    trust::clock_high_water_mark(store).await;
    trust::trust_state_deadlines_and_retention(store).await;
    nodes::bindings(store).await;
    nodes::tags_and_reports_of_bound_hosts(store).await;
    nodes::racing_bindings_of_one_node(store).await;
    nodes::pod_pids_limits(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_shared_scenarios() {
    let dir = TempDir::new("sqlite");
    let store = Store::open(&dir.path().join("t.db").display().to_string())
        .await
        .unwrap();
    shared_scenarios(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_shared_scenarios() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open(&pg.url()).await.unwrap();
    shared_scenarios(&store).await;
}

#[tokio::test]
async fn sqlite_keeps_data_across_reopen_in_wal_mode() {
    let dir = TempDir::new("sqlite-reopen");
    let path = dir.path().join("sub dir").join("t.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let store = Store::open_sqlite(&path).await.unwrap();
    store.upsert_group("kept", "{}").await.unwrap();
    drop(store);
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.group("kept").await.unwrap().as_deref(), Some("{}"));
    // The Any driver takes no SQLite options but the path; WAL comes from after_connect.
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn locations_pick_the_backend_by_scheme() {
    let pg = |s: &str| Location::Postgres(s.into());
    let lite = |s: &str| Location::Sqlite(PathBuf::from(s));
    let cases = [
        (
            "postgres://u@db/ironroot",
            Some(pg("postgres://u@db/ironroot")),
        ),
        (
            "postgresql://u@db:5433/x?sslmode=require",
            Some(pg("postgresql://u@db:5433/x?sslmode=require")),
        ),
        (
            "sqlite:///var/lib/ironroot/db",
            Some(lite("/var/lib/ironroot/db")),
        ),
        ("sqlite://rel/db", Some(lite("rel/db"))),
        ("sqlite:db", Some(lite("db"))),
        (
            "/var/lib/ironroot/ironroot.db",
            Some(lite("/var/lib/ironroot/ironroot.db")),
        ),
        ("data/ironroot.db", Some(lite("data/ironroot.db"))),
        ("mysql://db/x", None),
        ("sqlite://db?mode=ro", None),
        ("sqlite://", None),
        ("", None),
    ];
    for (input, want) in cases {
        match (Location::parse(input), want) {
            (Ok(got), Some(want)) => assert_eq!(got, want, "{input}"),
            (Err(StoreError::Location(_)), None) => {}
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }
}
