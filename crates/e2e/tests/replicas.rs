//! Replicas over one PostgreSQL: a subscriber of one replica hears of the changes made
//! through another and resumes with `Last-Event-ID`; and the database going away fails
//! closed (clear errors, nobody newly trusted, nothing lost) and recovers by itself.
//! A missing swtpm or PostgreSQL fails each test, unless a developer allowed skipping
//! (`ironroot_testkit::skip_missing_peer`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::AgentError;
use ironroot_api::{ErrorKind, FlavorList, FlavorsFromHostRequest, ReportRecord, TrustState};
use ironroot_client::{Client, PlainHttp};
use ironroot_e2e::{peers_available, EventReader, Node, Platform, TempDir};
use ironroot_server::Service;
use ironroot_testkit::databases::PgCluster;
use std::time::{Duration, Instant};

const SOON: Duration = Duration::from_secs(5);

async fn trust_from_host(admin: &Client, host_id: &str) {
    let req = FlavorsFromHostRequest {
        host_id: host_id.into(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = admin.post("/v1/flavors/from-host", &req).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_of_one_replica_sees_changes_made_through_another_and_resumes() {
    if !peers_available() {
        return;
    }
    let Some(pg) = PgCluster::start() else { return };
    let dir = TempDir::new("replica-events").unwrap();
    let mut node = Node::boot(&dir.0, "node-1").await.unwrap();
    let other = Node::boot(&dir.0, "node-2").await.unwrap();
    let cas = node.ca.iter().chain(&other.ca).cloned().collect();
    let a = Platform::start(dir, cas, |c| c.database = Some(pg.url()))
        .await
        .unwrap();
    // Replica B: same data directory (CA, signing key, token) and database, own port.
    let b = Service::start(a.config.clone()).await.unwrap();
    let b_url = format!("https://{}", b.addr);
    let token = std::fs::read_to_string(a.config.data_dir.join("admin.token")).unwrap();
    let b_admin = Client::admin(
        &b_url,
        b.ca_pem.as_bytes(),
        token.trim(),
        PlainHttp::Refused,
    )
    .unwrap();

    let mut on_a = EventReader::open(&a.admin, None).await.unwrap();
    // The node talks only to B.
    let mut s = node.session(&b_url, &b.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    assert!(!s.attest_once().await.unwrap().trusted, "no flavors yet");
    let (first, e) = on_a.next(SOON).await.unwrap();
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Unknown, TrustState::Untrusted)
    );
    trust_from_host(&b_admin, &host_id).await;
    assert!(s.attest_once().await.unwrap().trusted);
    let (second, e) = on_a.next(SOON).await.unwrap();
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Untrusted, TrustState::Trusted)
    );
    assert!(
        e.report_jws.is_some(),
        "the signed report travels with the event"
    );
    node.tamper_runtime(&s, "/usr/sbin/runc").await.unwrap();
    let tampered = Instant::now();
    assert!(!s.attest_once().await.unwrap().trusted);
    let (third, e) = on_a.next(SOON).await.unwrap();
    eprintln!("change made on B seen on A after {:?}", tampered.elapsed());
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Trusted, TrustState::Untrusted)
    );
    assert!(
        e.reasons.iter().any(|r| r.contains("/usr/sbin/runc")),
        "{:?}",
        e.reasons
    );
    assert!(
        first < second && second < third,
        "ids follow the log: {first} {second} {third}"
    );

    // A subscriber that lost its connection after the first event resumes on B: the two
    // it missed, in order, then live events, each once.
    let mut resumed = EventReader::open(&b_admin, Some(first)).await.unwrap();
    assert_eq!(resumed.next(SOON).await.unwrap().0, second);
    assert_eq!(resumed.next(SOON).await.unwrap().0, third);
    // A second node built like the first, through A this time: node-1's flavors fit it.
    let mut o = other.session(&a.url(), &a.service.ca_pem).unwrap();
    o.ensure_enrolled().await.unwrap();
    assert!(o.attest_once().await.unwrap().trusted);
    let (fourth, e) = resumed.next(SOON).await.unwrap();
    assert!(fourth > third);
    assert_eq!(
        (e.previous, e.trust, e.hostname.as_str()),
        (TrustState::Unknown, TrustState::Trusted, "node-2")
    );
    assert_eq!(on_a.next(SOON).await.unwrap().0, fourth, "A sees it too");
    assert!(
        resumed.next(Duration::from_millis(500)).await.is_err(),
        "nothing twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_fails_closed_and_the_service_recovers_by_itself() {
    if !peers_available() {
        return;
    }
    let Some(pg) = PgCluster::start() else { return };
    let dir = TempDir::new("db-outage").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let newcomer = Node::boot(&dir.0, "node-2").await.unwrap();
    let cas = node.ca.iter().chain(&newcomer.ca).cloned().collect();
    let p = Platform::start(dir, cas, |c| c.database = Some(pg.url()))
        .await
        .unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    assert!(!s.attest_once().await.unwrap().trusted, "no flavors yet");
    trust_from_host(&p.admin, &host_id).await;
    let before = s.attest_once().await.unwrap();
    assert!(before.trusted);

    pg.stop();
    // Attestation, enrollment and the admin API each answer promptly with a clear
    // "unavailable", and nobody gains trust.
    let t = Instant::now();
    match s.attest_once().await {
        Err(AgentError::Refused(e)) => {
            assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}");
            assert!(e.message.contains("database"), "{}", e.message);
        }
        other => panic!("attesting with the database down: {other:?}"),
    }
    let mut n = newcomer.session(&p.url(), &p.service.ca_pem).unwrap();
    match n.ensure_enrolled().await {
        Err(AgentError::Refused(e)) => assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}"),
        other => panic!("enrolling with the database down: {other:?}"),
    }
    let err = p.admin.hosts().await.unwrap_err();
    assert!(
        format!("{err:#}").contains("database is unavailable"),
        "{err:#}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "answers, does not hang"
    );

    pg.start_again();
    // No restart, no manual step: the next attestation after the database returns is
    // judged and written; the newcomer enrolls; what was written before is all there.
    let mut recovered = None;
    for _ in 0..50 {
        match s.attest_once().await {
            Ok(o) => {
                recovered = Some(o);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    assert!(recovered.expect("recovered within 10 s").trusted);
    n.ensure_enrolled().await.unwrap();
    let reports: Vec<ReportRecord> = p
        .admin
        .get(&format!("/v1/hosts/{host_id}/reports"))
        .await
        .unwrap();
    assert!(
        reports.iter().any(|r| r.report_id == before.report_id),
        "the report written before the outage survived"
    );
    let hosts = p.admin.hosts().await.unwrap();
    assert_eq!(hosts.len(), 2);
}
