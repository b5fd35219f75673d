// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

//! The scan tests' shared lab: the test images (tests/fixtures/scan/make-images.sh), a
//! feed directory of real advisories, and the binary run with its own database and store.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory with the test images and a database, removed on drop (by the
/// `TempDir` that owns it).
pub struct Work(pub PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Work {
    pub fn new(name: &str) -> Work {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("ironroot-scan-{name}-"))
            .tempdir()
            .unwrap();
        let d = tmp.path().to_path_buf();
        let o = Command::new(repo().join("crates/cli/tests/fixtures/scan/make-images.sh"))
            .arg(d.join("img"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let w = Work(d, tmp);
        // The real advisories only (the synthetic IRONROOT-TEST records are for vulndb's
        // own tests), plus one rpm record written for this test.
        let feeds = w.0.join("feeds");
        std::fs::create_dir_all(&feeds).unwrap();
        let fx = repo().join("crates/vulndb/tests/fixtures");
        for f in [
            "osv/DSA-5514-1.json",
            "osv/DEBIAN-CVE-2023-45853.json",
            "osv/ALPINE-CVE-2024-5535.json",
            "osv/ALPINE-CVE-2024-3094.json",
            "debian-tracker-excerpt.json",
        ] {
            std::fs::copy(fx.join(f), feeds.join(Path::new(f).file_name().unwrap())).unwrap();
        }
        std::fs::write(feeds.join("IRONROOT-TEST-RPM.json"), RPM_RECORD).unwrap();
        w
    }
    pub fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("IRONROOT_DB", self.p("db")),
            ("IRONROOT_INVENTORIES", self.p("inv")),
        ]
    }
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ironroot"))
            .args(args)
            .envs(self.env())
            .output()
            .unwrap()
    }
    pub fn update_db(&self) {
        ok(self.run(&["db", "update", "--from", &self.p("feeds")]));
    }
    /// `scan --format json` with an old enough database allowed.
    pub fn scan(&self, image: &str, extra: &[&str]) -> (Output, Value) {
        let mut args = vec!["scan", image, "--max-db-age", "100000d"];
        if !extra.contains(&"--format") {
            args.extend(["--format", "json"]);
        }
        args.extend_from_slice(extra);
        let o = self.run(&args);
        let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        (o, v)
    }
}

/// A synthetic advisory for the locally built rpm `hello-ironroot` (not a real package).
const RPM_RECORD: &str = r#"{"schema_version":"1.7.0","id":"IRONROOT-TEST-RPM-1","modified":"2024-05-01T00:00:00Z",
"affected":[{"package":{"ecosystem":"AlmaLinux:9","name":"hello-ironroot"},
"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2.3-5.ir1"}]}]}]}"#;

pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What the full feed adds, after the first (Alpine's xz record alone), for the debian
/// and alpine test images: the expected `new` of a rescan, sorted.
pub const RESCAN_NEW: [&str; 6] = [
    "CVE-2023-45853",
    "CVE-2023-4911",
    "CVE-2024-2511",
    "CVE-2024-5535",
    "TEMP-0000000-IRTEST",
    "TEMP-0841856-B18BAF",
];

/// The ids of a rescan's new findings over all images, sorted.
pub fn rescan_new_ids(rescan: &Value) -> Vec<String> {
    let mut new: Vec<String> = rescan["images"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["new"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_owned())
        })
        .collect();
    new.sort();
    new
}

/// A report's vulnerabilities as sorted one-line summaries.
pub fn vulns(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} {} {} fix={} layer={}",
                x["severity"].as_str().unwrap(),
                x["id"].as_str().unwrap(),
                x["package"].as_str().unwrap(),
                x["fixed_version"].as_str().unwrap_or("-"),
                x["layer"]
            )
        })
        .collect();
    out.sort();
    out
}

/// What the Debian test image has against the full feed.
pub const DEBIAN_VULNS: [&str; 5] = [
    "critical CVE-2023-45853 zlib1g fix=- layer=0",
    "low CVE-2024-2511 libssl3 fix=3.0.14-1~deb12u1 layer=1",
    "low TEMP-0841856-B18BAF bash fix=- layer=1",
    "unknown CVE-2023-4911 libc6 fix=2.36-9+deb12u3 layer=0",
    "unknown TEMP-0000000-IRTEST zlib1g fix=- layer=0",
];
