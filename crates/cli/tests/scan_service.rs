#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The service rescans on its own (brief R16): `ironroot scan --submit` sends inventories
//! to a real service on loopback started with a watched database; when `ironroot db
//! update` installs a new generation there, the service rescans without any image (they
//! are deleted first) and `ironroot rescan --service` shows what became vulnerable. A
//! database that fails to load is reported and the last good one stays in use; a restart
//! keeps the rescans; the API refuses a caller without the administrator token.

mod scan_lab;

use ironroot_server::{EkCertPolicy, ImagesConfig, ServerConfig, Service};
use scan_lab::{ok, rescan_new_ids, stderr, Work, RESCAN_NEW};
use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant};

struct Platform {
    service: Option<Service>,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        drop(self.service.take());
    }
}

fn start(w: &Work, vulndb: &str) -> Platform {
    let mut config = ServerConfig::new(w.0.join("service"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.ek_cert_policy = EkCertPolicy::IfPresent;
    config.images = Some(ImagesConfig {
        vulndb: vulndb.into(),
        inventories: None,
        poll_secs: 1,
        // The fixtures' advisories are from 2023 and 2024: every rescan is marked stale.
        max_db_age_secs: 7 * 86_400,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let service = runtime.block_on(Service::start(config)).unwrap();
    Platform {
        service: Some(service),
        runtime,
    }
}

/// `ironroot ARGS` as an administrator of the service (token file `token`).
fn admin(w: &Work, p: &Platform, token: &str, args: &[&str]) -> Output {
    let service = p.service.as_ref().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args(args)
        .envs(w.env())
        .env("IRONROOT_SERVER", format!("https://{}", service.addr))
        .env("IRONROOT_CA", w.0.join("service/ca.pem"))
        .env("IRONROOT_TOKEN_FILE", w.0.join(token))
        .output()
        .unwrap()
}

fn service_log(w: &Work, p: &Platform) -> Value {
    let out = ok(admin(
        w,
        p,
        "service/admin.token",
        &["--output", "json", "rescan", "--service"],
    ));
    serde_json::from_str(&out).unwrap()
}

/// Polls the service's rescan log until `done` holds (the watcher polls every second).
fn wait_for(w: &Work, p: &Platform, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let t = Instant::now();
    loop {
        let log = service_log(w, p);
        if done(&log) {
            return log;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "waited 90 s for {what}: {log:#}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn generation(w: &Work, db: &str) -> u64 {
    let out = ok(w.run(&["--output", "json", "db", "status", "--db", db]));
    serde_json::from_str::<Value>(&out).unwrap()["updated_at"]
        .as_u64()
        .unwrap()
}

#[test]
fn the_service_rescans_submitted_inventories_when_its_database_changes() {
    let w = Work::new("service");
    // The service's database starts with Alpine's xz record only; the scanning user's
    // own database is the full one (the service must not take the submitter's findings).
    let svc_db = w.p("svc-db");
    std::fs::create_dir_all(w.p("first")).unwrap();
    std::fs::copy(w.p("feeds/ALPINE-CVE-2024-3094.json"), w.p("first/a.json")).unwrap();
    ok(w.run(&["db", "update", "--db", &svc_db, "--from", &w.p("first")]));
    let first = generation(&w, &svc_db);
    w.update_db();
    let p = start(&w, &svc_db);
    wait_for(&w, &p, "the first database", |l| {
        l["database"]["updated_at"] == first
    });

    // A caller without the administrator's token is refused, and nothing is kept.
    std::fs::write(w.0.join("wrong.token"), "not-the-token\n").unwrap();
    fn scan(img: &str) -> [&str; 7] {
        [
            "scan",
            img,
            "--max-db-age",
            "100000d",
            "--format",
            "json",
            "--submit",
        ]
    }
    let refused = admin(&w, &p, "wrong.token", &scan(&w.p("img/alpine")));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("authentication required"),
        "{}",
        stderr(&refused)
    );
    // The scan's own report is out all the same.
    let report: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert!(!report["packages"].as_array().unwrap().is_empty());

    for img in ["img/alpine", "img/debian"] {
        let o = admin(&w, &p, "service/admin.token", &scan(&w.p(img)));
        let said = stderr(&o);
        ok(o);
        assert!(said.contains("submitted to https://"), "{said}");
        assert!(said.contains(&format!("generation {first}")), "{said}");
    }
    // The images are gone; a fuller database arrives where the service watches.
    std::fs::remove_dir_all(w.p("img")).unwrap();
    ok(w.run(&["db", "update", "--db", &svc_db, "--from", &w.p("feeds")]));
    let second = generation(&w, &svc_db);
    let log = wait_for(&w, &p, "the rescan", |l| {
        l["rescans"][0]["generation"] == second
    });
    let r = &log["rescans"][0];
    assert_eq!(r["inventories"], 2, "{log:#}");
    assert_eq!(r["stale"], true, "{log:#}");
    // The same as the local store's rescan finds (tests/scan_db.rs): what the second
    // database adds for these two images, nothing the first one already reported.
    assert_eq!(rescan_new_ids(r), RESCAN_NEW, "{log:#}");
    // CI gates on the newest rescan: --fail-on high finds CVE-2023-4911 (glibc).
    let gate = admin(
        &w,
        &p,
        "service/admin.token",
        &["rescan", "--service", "--fail-on", "high"],
    );
    assert_eq!(gate.status.code(), Some(2), "{}", stderr(&gate));
    let table = String::from_utf8_lossy(&gate.stdout).into_owned();
    assert!(table.contains("(STALE database)"), "{table}");
    assert!(table.contains("CVE-2023-4911"), "{table}");

    // A restart keeps the rescans and does not rescan the same generation again.
    drop(p);
    let p = start(&w, &svc_db);
    let log = wait_for(&w, &p, "the database after a restart", |l| {
        l["database"]["updated_at"] == second
    });
    assert_eq!(log["rescans"].as_array().unwrap().len(), 2, "{log:#}");
    assert_eq!(log["rescans"][0]["generation"], second, "{log:#}");
    assert_eq!(
        log["rescans"][0]["images"].as_array().unwrap().len(),
        2,
        "{log:#}"
    );

    // A corrupt generation: the service says why and keeps matching with the last good one.
    let meta_path = w.0.join("svc-db/metadata.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["updated_at"] = (second + 1).into();
    std::fs::write(w.0.join("svc-db/osv.jsonl"), "{\"id\": 7}\n").unwrap();
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let log = wait_for(&w, &p, "the load problem", |l| l["problem"].is_string());
    assert!(
        log["problem"]
            .as_str()
            .unwrap()
            .contains("osv.jsonl: line 1"),
        "{log:#}"
    );
    assert_eq!(log["database"]["updated_at"], second, "{log:#}");
    assert_eq!(log["rescans"].as_array().unwrap().len(), 2, "{log:#}");
}
