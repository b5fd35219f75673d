#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The vulnerability database and stored inventories: `db update` from files and from a
//! URL (validated whole; a malformed record or a stale database refused, the old one
//! kept), and `rescan` reporting what a new database makes vulnerable without the images.

mod scan_lab;

use scan_lab::{ok, repo, rescan_new_ids, stderr, Work, RESCAN_NEW};
use serde_json::Value;
use std::process::Command;

#[test]
fn a_stale_or_malformed_database_is_refused_and_the_old_one_kept() {
    let w = Work::new("db");
    w.update_db();
    // The newest advisory is from 2024: the default 7 days refuses it, saying why.
    let o = w.run(&["scan", &w.p("img/alpine")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("days old"), "{}", stderr(&o));
    // A malformed record refuses the whole update; the database stays as it was.
    let bad = w.p("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(
        repo().join("crates/vulndb/tests/fixtures/osv/malformed-two-key-event.json"),
        w.p("bad/x.json"),
    )
    .unwrap();
    let o = w.run(&["db", "update", "--from", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("IRONROOT-TEST-0004"), "{}", stderr(&o));
    let status = ok(w.run(&["--output", "json", "db", "status"]));
    let m: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(m["osv_records"], 5);
    assert_eq!(m["tracker_issues"], 7);
}

#[test]
fn rescan_reports_what_a_new_database_makes_vulnerable_without_reading_images() {
    let w = Work::new("rescan");
    // First database: Alpine's xz record only.
    let first = w.p("first");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::copy(w.p("feeds/ALPINE-CVE-2024-3094.json"), w.p("first/a.json")).unwrap();
    ok(w.run(&["db", "update", "--from", &first]));
    for img in ["img/alpine", "img/debian"] {
        let (o, _) = w.scan(&w.p(img), &[]);
        ok(o);
    }
    // The images are gone; a fuller database arrives.
    std::fs::remove_dir_all(w.p("img")).unwrap();
    w.update_db();
    let out = ok(w.run(&["--output", "json", "rescan", "--max-db-age", "100000d"]));
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["inventories"], 2);
    assert_eq!(rescan_new_ids(&r), RESCAN_NEW);
    // A second rescan finds nothing new; --fail-on sees only new findings.
    let out = ok(w.run(&[
        "--output",
        "json",
        "rescan",
        "--max-db-age",
        "100000d",
        "--fail-on",
        "low",
    ]));
    let r: Value = serde_json::from_str(&out).unwrap();
    assert!(r["images"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["new"].as_array().unwrap().is_empty()));
    // Back to the first database: what it no longer lists is reported gone, per image.
    ok(w.run(&["db", "update", "--from", &first]));
    let out = ok(w.run(&["--output", "json", "rescan", "--max-db-age", "100000d"]));
    let r: Value = serde_json::from_str(&out).unwrap();
    let gone: usize = r["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fixed"].as_array().unwrap().len())
        .sum();
    assert_eq!(gone, 6, "{r}");
    assert_eq!(r["packages"], 11, "distinct packages: 6 Debian, 5 Alpine");
}

/// An HTTP server on loopback serving a directory (Python's http.server), killed on drop.
struct Http(std::process::Child);

impl Drop for Http {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn db_update_from_a_url_downloads_and_validates() {
    let w = Work::new("url");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _server = Http(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
                &w.p("feeds"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/debian-tracker-excerpt.json");
    let mut last = None;
    for _ in 0..50 {
        let o = w.run(&[
            "db",
            "update",
            "--from",
            &url,
            "--from",
            &w.p("feeds/DSA-5514-1.json"),
        ]);
        if o.status.success() {
            last = None;
            break;
        }
        last = Some(stderr(&o));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(last.is_none(), "{last:?}");
    let m: Value = serde_json::from_str(&ok(w.run(&["--output", "json", "db", "status"]))).unwrap();
    assert_eq!(
        (m["osv_records"].as_u64(), m["tracker_issues"].as_u64()),
        (Some(1), Some(7))
    );
    // A URL that answers 404 refuses the update and keeps the database.
    let o = w.run(&[
        "db",
        "update",
        "--from",
        &format!("http://127.0.0.1:{port}/missing.json"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));
    let m: Value = serde_json::from_str(&ok(w.run(&["--output", "json", "db", "status"]))).unwrap();
    assert_eq!(m["tracker_issues"], 7);
}
