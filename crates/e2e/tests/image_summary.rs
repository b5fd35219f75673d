//! `GET /v1/images/{digest}/summary` end to end, the scan fact of the policy "image
//! scanned under a severity threshold": a real scan of an Alpine 3.20 OCI image (the
//! scanner's own library calls, as `ironroot scan --format json` makes them) is submitted
//! to a real service before it has a database (404: never matched, not "clean"); a
//! database from the vulndb fixtures arrives, the service rescans on its own, and the
//! summary reads the rescan's two critical findings and its time; a new submission is
//! then the latest match. Open to the administrator and to a registered cluster's
//! certificate; 401 without either, 400 for a malformed digest, 404 for an unknown one and
//! on a service without `--vulndb`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_api::{ErrorKind, ImageScanSummary};
use ironroot_client::{Client, ClientError};
use ironroot_e2e::{Platform, TempDir};
use ironroot_inventory::{Feed, RescanLog, Staging, Submitted};
use ironroot_scanner::{NoInspector, NoRpmSqlite, Scan, ScanReport, Severity};
use ironroot_server::{EkCertPolicy, ImagesConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> u64 {
    ironroot_timestamp::now_unix()
}

/// An OCI layout of Alpine 3.20 with apk's installed database from the vulndb fixtures
/// (as crates/cli/tests/fixtures/scan/make-images.sh builds its alpine image).
fn alpine_image(dir: &Path) -> PathBuf {
    let root = dir.join("alpine-root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
    )
    .unwrap();
    std::fs::copy(
        repo().join("crates/vulndb/tests/fixtures/alpine-3.20-installed"),
        root.join("lib/apk/db/installed"),
    )
    .unwrap();
    let out = dir.join("alpine");
    let o = std::process::Command::new(repo().join("scripts/make-test-image.sh"))
        .args(["--tag", "3.20"])
        .arg(&out)
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The image's scan report, unmatched (the service matches with its own database).
fn scan(layout: &Path) -> ScanReport {
    let reference = format!("oci:{}", layout.display());
    let source = ironroot_oci::source::Source::parse(&reference).unwrap();
    let runtime = tokio::runtime::Handle::current();
    let started_at = now();
    let (mut inspector, rpm) = (NoInspector, NoRpmSqlite);
    let mut scan = Scan::new(Default::default(), &mut inspector, &rpm);
    let fed = ironroot_oci::source::feed(
        &reference,
        &source,
        &mut scan,
        &ironroot_oci::Silent,
        false,
        &runtime,
    )
    .unwrap();
    let collected = scan.finish();
    let config = ironroot_scanner::checks::configuration(&collected, fed.config.as_deref());
    let mut report = ironroot_scanner::assemble(ironroot_scanner::ScanParts {
        scanner_version: "e2e".into(),
        started_at,
        image: fed.info,
        collected,
        config,
        content: Vec::new(),
    });
    report.finish(now());
    report
}

/// `ironroot db update --db DIR --from` Alpine's xz and openssl records (both critical
/// for the fixture's xz-libs and libcrypto3); the generation installed.
fn install_database(db: &Path, work: &Path) -> u64 {
    let feeds = work.join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    for f in ["ALPINE-CVE-2024-3094.json", "ALPINE-CVE-2024-5535.json"] {
        std::fs::copy(
            repo().join("crates/vulndb/tests/fixtures/osv").join(f),
            feeds.join(f),
        )
        .unwrap();
    }
    let mut staging = Staging::default();
    staging
        .add(&feeds.display().to_string(), Feed::Path(feeds.clone()))
        .unwrap();
    staging.install(db, now()).unwrap().updated_at
}

async fn rescans(p: &Platform) -> RescanLog {
    p.admin.get("/v1/images/rescans").await.unwrap()
}

async fn wait_for(p: &Platform, what: &str, done: impl Fn(&RescanLog) -> bool) -> RescanLog {
    let t = Instant::now();
    loop {
        let log = rescans(p).await;
        if done(&log) {
            return log;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "waited 60 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn submit(p: &Platform, report: &ScanReport) -> Submitted {
    p.admin
        .post("/v1/images/inventories", report)
        .await
        .unwrap()
}

/// A registered cluster's client (its own certificate, no administrator token).
async fn cluster(p: &Platform) -> Client {
    ironroot_e2e::register_cluster(p, "eu-1").await.unwrap().1
}

async fn kind_of(c: &Client, path: &str) -> Option<ErrorKind> {
    let e: ClientError = c.get::<serde_json::Value>(path).await.expect_err("refused");
    e.api().map(|a| a.kind)
}

fn images_config(dir: &Path) -> ImagesConfig {
    ImagesConfig {
        vulndb: dir.join("vulndb"),
        inventories: None,
        poll_secs: 1,
        // The fixtures' advisories are from 2024: the database is old, and still used.
        max_db_age_secs: 7 * 86_400,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_reads_the_latest_match_of_a_stored_inventory() {
    let dir = TempDir::new("image-summary").unwrap();
    let work = dir.0.clone();
    let images = images_config(&work);
    let p = Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = EkCertPolicy::IfPresent;
        c.images = Some(images);
    })
    .await
    .unwrap();
    let layout = alpine_image(&work);
    // Layers are read on a blocking thread, as the CLI reads them.
    let report = tokio::task::spawn_blocking(move || scan(&layout))
        .await
        .unwrap();
    let digest = report.image.manifest_digest.clone().unwrap();
    assert!(!report.packages.is_empty());

    // Submitted before the service has a database: stored, never matched, so unknown.
    let kept = submit(&p, &report).await;
    assert_eq!((kept.image.as_str(), kept.generation), (digest.as_str(), 0));
    assert_eq!(p.admin.image_scan_summary(&digest).await.unwrap(), None);

    // A database arrives; the service rescans on its own: the rescan is the latest match.
    let generation = install_database(&work.join("vulndb"), &work);
    let log = wait_for(&p, "the rescan", |l| {
        l.rescans
            .first()
            .is_some_and(|r| r.generation == generation)
    })
    .await;
    let rescanned_at = log.rescans[0].finished_at;
    let want = ImageScanSummary {
        digest: digest.clone(),
        highest_unfixed: Some(Severity::Critical),
        findings: 2,
        scanned_at: rescanned_at,
        generation,
    };
    assert_eq!(
        p.admin.image_scan_summary(&digest).await.unwrap(),
        Some(want.clone())
    );

    // A registered cluster's certificate reads it too (the webhook's way in).
    let eu = cluster(&p).await;
    assert_eq!(
        eu.image_scan_summary(&digest).await.unwrap(),
        Some(want.clone())
    );

    // Submitted again: matched on submission, now the latest match.
    let before = now();
    assert_eq!(submit(&p, &report).await.generation, generation);
    let again = p.admin.image_scan_summary(&digest).await.unwrap().unwrap();
    assert!(again.scanned_at >= before.max(rescanned_at), "{again:?}");
    assert_eq!(
        (again.highest_unfixed, again.findings, again.generation),
        (Some(Severity::Critical), 2, generation)
    );

    // Refusals: an unknown digest is 404 (None), a malformed one 400, no credentials 401.
    let unknown = format!("sha256:{}", "0".repeat(64));
    assert_eq!(p.admin.image_scan_summary(&unknown).await.unwrap(), None);
    assert_eq!(
        kind_of(&p.admin, &format!("/v1/images/{unknown}/summary")).await,
        Some(ErrorKind::NotFound)
    );
    for bad in [
        format!("sha256:{}", "A".repeat(64)),
        format!("sha256:{}", "a".repeat(63)),
        "latest".to_owned(),
    ] {
        let path = format!("/v1/images/{bad}/summary");
        assert_eq!(
            kind_of(&p.admin, &path).await,
            Some(ErrorKind::BadRequest),
            "{path}"
        );
        assert_eq!(
            kind_of(&eu, &path).await,
            Some(ErrorKind::BadRequest),
            "{path}"
        );
    }
    let path = format!("/v1/images/{digest}/summary");
    let anonymous = Client::agent(&p.url(), p.service.ca_pem.as_bytes(), None).unwrap();
    let wrong = Client::admin(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        "not-the-token",
        ironroot_client::PlainHttp::Refused,
    )
    .unwrap();
    for c in [&anonymous, &wrong] {
        assert_eq!(kind_of(c, &path).await, Some(ErrorKind::Unauthenticated));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_vulnerability_database_has_no_summaries() {
    let dir = TempDir::new("image-summary-off").unwrap();
    let p = Platform::start(dir, vec![], |c| c.ek_cert_policy = EkCertPolicy::IfPresent)
        .await
        .unwrap();
    let digest = format!("sha256:{}", "0".repeat(64));
    assert_eq!(p.admin.image_scan_summary(&digest).await.unwrap(), None);
    assert_eq!(
        kind_of(&p.admin, &format!("/v1/images/{digest}/summary")).await,
        Some(ErrorKind::NotFound)
    );
}
