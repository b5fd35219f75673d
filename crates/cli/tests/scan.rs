#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot scan`, `db` and `rescan` on real test images (tests/fixtures/scan/make-images.sh:
//! a bookworm dpkg status over two layers, Alpine's apk database, an rpmdb.sqlite made by
//! rpm 4.18), read from an OCI layout, a `docker save` archive, a root filesystem and the
//! loopback registry; against a database made of real advisories (crates/vulndb fixtures).
//! Bad input: an altered layer, a hostile layer, a stale or malformed database.

mod scan_lab;

use scan_lab::{ok, repo, rescan_new_ids, stderr, Work, RESCAN_NEW};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn packages(v: &Value) -> Vec<(String, String, u64)> {
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["layer"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn vulns(v: &Value) -> Vec<String> {
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

const DEBIAN_VULNS: [&str; 5] = [
    "critical CVE-2023-45853 zlib1g fix=- layer=0",
    "low CVE-2024-2511 libssl3 fix=3.0.14-1~deb12u1 layer=1",
    "low TEMP-0841856-B18BAF bash fix=- layer=1",
    "unknown CVE-2023-4911 libc6 fix=2.36-9+deb12u3 layer=0",
    "unknown TEMP-0000000-IRTEST zlib1g fix=- layer=0",
];

#[test]
fn an_oci_layout_is_inventoried_by_layer_and_matched() {
    let w = Work::new("layout");
    w.update_db();
    let (o, v) = w.scan(&format!("oci:{}:12", w.p("img/debian")), &[]);
    ok(o);
    assert_eq!(
        packages(&v),
        [
            ("libc6".into(), "2.36-9+deb12u2".into(), 0),
            ("zlib1g".into(), "1:1.2.13.dfsg-1".into(), 0),
            ("libcurl4".into(), "7.88.1-10+deb12u5".into(), 0),
            ("liblzma5".into(), "5.4.1-0.2".into(), 0),
            ("libssl3".into(), "3.0.11-1~deb12u2".into(), 1),
            ("bash".into(), "5.2.15-2+b2".into(), 1),
        ]
    );
    assert_eq!(vulns(&v), DEBIAN_VULNS);
    assert_eq!(v["os"]["id"], "debian");
    assert_eq!(v["layers"].as_array().unwrap().len(), 3);
    assert!(v["image"]["manifest_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    // Configuration: every weakness make-images.sh put in, with the layer that put it there.
    let mut config: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "config")
        .map(|f| {
            format!(
                "{} {} {}",
                f["id"].as_str().unwrap(),
                f["path"].as_str().unwrap_or("config"),
                f["layer"]
            )
        })
        .collect();
    config.sort();
    assert_eq!(
        config,
        [
            "IR-CFG-AGE-001 etc/login.defs 0",
            "IR-CFG-AGE-002 etc/login.defs 0",
            "IR-CFG-ENV-001 config null",
            "IR-CFG-HEALTH-001 config null",
            "IR-CFG-PWD-002 etc/shadow 0",
            "IR-CFG-SSH-001 usr/sbin/sshd 1",
            "IR-CFG-SSH-003 etc/ssh/sshd_config 1",
            "IR-CFG-SSH-004 etc/ssh/sshd_config 1",
            "IR-CFG-SUID-002 usr/bin/su 1",
            "IR-CFG-USER-001 config null",
        ]
    );
    // The password in ENV is named, never printed.
    assert!(!v.to_string().contains("hunter2-not-a-real-one"));

    // The other formats carry the same findings (their schemas are checked in
    // crates/scanner/tests/render.rs).
    let image = format!("oci:{}:12", w.p("img/debian"));
    let (o, sarif) = w.scan(&image, &["--format", "sarif"]);
    ok(o);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5 + 10 + 3, "{sarif}");
    let (o, cdx) = w.scan(&image, &["--format", "cyclonedx"]);
    ok(o);
    assert_eq!(cdx["components"].as_array().unwrap().len(), 6);
    assert!(cdx["components"]
        .to_string()
        .contains("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"));
    let (o, spdx) = w.scan(&image, &["--format", "spdx"]);
    ok(o);
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["packages"].as_array().unwrap().len(), 7);
    let (o, att) = w.scan(&image, &["--format", "cosign-vuln"]);
    ok(o);
    let digest = v["image"]["manifest_digest"].as_str().unwrap();
    assert_eq!(
        format!(
            "sha256:{}",
            att["subject"][0]["digest"]["sha256"].as_str().unwrap()
        ),
        digest
    );
    assert_eq!(
        att["predicateType"],
        "https://cosign.sigstore.dev/attestation/vuln/v1"
    );

    let (o, v) = w.scan(&w.p("img/alpine"), &[]);
    ok(o);
    // A non-root user and a healthcheck: nothing to say about its configuration.
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(
        vulns(&v),
        [
            "critical CVE-2024-3094 xz-libs fix=5.6.1-r2 layer=0",
            "critical CVE-2024-5535 libcrypto3 fix=3.3.1-r1 layer=0",
        ]
    );

    // rpm: the package list read from rpmdb.sqlite with sqlx is rpm -qa's (gpg-pubkey aside).
    let (o, v) = w.scan(&w.p("img/rpm"), &[]);
    ok(o);
    let mut names: Vec<String> = packages(&v)
        .into_iter()
        .map(|p| format!("{} {}", p.0, p.1))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "epoch-ironroot 7:2.0~rc1-0.1",
            "hello-ironroot 1.2.3-4.ir1",
            "libdemo-ironroot 0.9-12",
            "libdemo-ironroot-devel 0.9-12",
        ]
    );
    assert_eq!(
        vulns(&v),
        ["unknown IRONROOT-TEST-RPM-1 hello-ironroot fix=1.2.3-5.ir1 layer=0"]
    );
}

/// A `docker save` archive (Docker before 25: `<id>/layer.tar`, uncompressed) of the
/// Debian test image.
fn docker_archive(w: &Work) -> String {
    let dir = PathBuf::from(w.p("img/debian"));
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        std::fs::read(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let manifest: Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = blob(config_digest);
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let config_name = format!("{}.json", config_digest.trim_start_matches("sha256:"));
    add(&config_name, &config);
    let mut layer_names = Vec::new();
    for (i, l) in manifest["layers"].as_array().unwrap().iter().enumerate() {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(blob(l["digest"].as_str().unwrap()).as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        let name = format!("layer{i}/layer.tar");
        add(&name, &tar);
        layer_names.push(name);
    }
    let m = serde_json::json!([{"Config": config_name, "RepoTags": ["debian:12"], "Layers": layer_names}]);
    add("manifest.json", m.to_string().as_bytes());
    let out = w.p("debian.tar");
    std::fs::write(&out, b.into_inner().unwrap()).unwrap();
    out
}

#[test]
fn a_docker_archive_and_a_root_filesystem_give_the_same_findings() {
    let w = Work::new("sources");
    w.update_db();
    let archive = docker_archive(&w);
    let (o, v) = w.scan(&archive, &[]);
    ok(o);
    assert_eq!(v["image"]["source"], "docker-archive");
    assert_eq!(vulns(&v), DEBIAN_VULNS);

    // The same files as a directory tree: one layer, so every package comes from layer 0.
    let root = PathBuf::from(w.p("rootfs"));
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::copy(
        repo().join("crates/vulndb/tests/fixtures/bookworm-status"),
        root.join("var/lib/dpkg/status"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow-of-the-host", root.join("etc/shadow")).unwrap();
    let (o, v) = w.scan(&format!("dir:{}", root.display()), &[]);
    ok(o);
    let fixed: Vec<String> = DEBIAN_VULNS
        .iter()
        .map(|s| s.replace("layer=1", "layer=0"))
        .collect();
    assert_eq!(vulns(&v), fixed);
}

/// Writes an OCI layout holding `layers` (raw blobs) and returns its path.
fn layout(w: &Work, name: &str, layers: &[Vec<u8>]) -> String {
    let dir = PathBuf::from(w.p(name));
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |data: &[u8]| {
        let d = ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, data);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(dir.join("blobs/sha256").join(&hex), data).unwrap();
        serde_json::json!({"digest": format!("sha256:{hex}"), "size": data.len()})
    };
    let mut descs = Vec::new();
    for l in layers {
        let mut d = put(l);
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        descs.push(d);
    }
    let mut config = put(br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#);
    config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": descs});
    let mut m = put(manifest.to_string().as_bytes());
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [m]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}", dir.display())
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar whose entry names are written raw, as an attacker would.
fn raw_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, *body).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn altered_and_hostile_layers_fail_or_are_findings() {
    let w = Work::new("bad");
    w.update_db();
    // One byte of a layer blob changed: the scan fails and names the layer.
    let img = layout(
        &w,
        "altered",
        &[gz(&raw_tar(&[("etc/os-release", b"ID=debian\n")]))],
    );
    let blobs = PathBuf::from(w.p("altered/blobs/sha256"));
    let manifest: Value = {
        let index: Value =
            serde_json::from_slice(&std::fs::read(w.p("altered/index.json")).unwrap()).unwrap();
        let d = index["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned();
        serde_json::from_slice(&std::fs::read(blobs.join(d)).unwrap()).unwrap()
    };
    let layer = blobs.join(
        manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let mut bytes = std::fs::read(&layer).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&layer, &bytes).unwrap();
    let (o, _) = w.scan(&img, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("layer 0"), "{}", stderr(&o));

    // Path traversal and an absolute path: findings, and nothing written anywhere.
    let escape = format!("../../../../tmp/ironroot-escape-{}", std::process::id());
    let img = layout(
        &w,
        "hostile",
        &[gz(&raw_tar(&[
            (&escape, b"x"),
            ("/etc/cron.d/evil", b"x"),
            ("etc/ok", b"x"),
        ]))],
    );
    let (o, v) = w.scan(&img, &[]);
    ok(o);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| **i == "IR-LAYER-PATH").count(),
        1,
        "{v}"
    );
    assert!(!Path::new(&format!("/tmp/ironroot-escape-{}", std::process::id())).exists());

    // A gzip bomb: 1 GiB of zeros in about 1 MiB stops at the ratio limit, clearly.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    let img = layout(&w, "bomb", &[e.finish().unwrap()]);
    let (o, _) = w.scan(&img, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("compression bomb"), "{}", stderr(&o));

    // A corrupt status file: the scan reports it as incomplete, not as "no packages".
    let img = layout(
        &w,
        "corrupt",
        &[gz(&raw_tar(&[
            ("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
            ("var/lib/dpkg/status", b"Package: a\n\xff\xfe garbage\n"),
        ]))],
    );
    let (o, v) = w.scan(&img, &[]);
    ok(o);
    assert_eq!(v["problems"][0]["kind"], "inventory", "{v}");
}

#[test]
fn severity_ignore_file_and_fail_on_decide_the_exit_code() {
    let w = Work::new("policy");
    w.update_db();
    let img = w.p("img/debian");
    let (o, _) = w.scan(&img, &["--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let (o, v) = w.scan(
        &img,
        &["--fail-on", "critical", "--severity", "critical,high"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(vulns(&v), ["critical CVE-2023-45853 zlib1g fix=- layer=0"]);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["severity"] == "critical" || f["severity"] == "high"));

    let ignore = w.p("ignore.toml");
    std::fs::write(
        &ignore,
        "[[ignore]]\nid = \"CVE-2023-45853\"\npackage = \"zlib1g\"\nreason = \"minizip is not shipped\"\nexpires = \"2999-01-01\"\n\n\
         [[ignore]]\nid = \"IR-CFG-PWD-002\"\npath = \"etc/shadow\"\nreason = \"root is locked at deploy time\"\n\n\
         [[ignore]]\nid = \"aws-access-key-id\"\npath = \"root/.aws/credentials\"\nreason = \"a revoked test key\"\n\n\
         [[ignore]]\nid = \"aws-secret-access-key\"\npath = \"root/.aws/credentials\"\nreason = \"a revoked test key\"\n",
    )
    .unwrap();
    let (o, v) = w.scan(&img, &["--fail-on", "critical", "--ignore-file", &ignore]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(v["suppressed"][0]["reason"], "minizip is not shipped");
    assert_eq!(v["suppressed"][1]["target"], "etc/shadow");
    // Expired: it counts again, with a warning.
    std::fs::write(
        &ignore,
        "[[ignore]]\nid = \"CVE-2023-45853\"\nreason = \"was true once\"\nexpires = \"2020-01-01\"\n",
    )
    .unwrap();
    let (o, _) = w.scan(&img, &["--fail-on", "critical", "--ignore-file", &ignore]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expired"), "{}", stderr(&o));
    // An entry without a reason is refused.
    std::fs::write(
        &ignore,
        "[[ignore]]\nid = \"CVE-2023-45853\"\nreason = \"\"\n",
    )
    .unwrap();
    let (o, _) = w.scan(&img, &["--ignore-file", &ignore]);
    assert_eq!(o.status.code(), Some(1));
}

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

/// The loopback registry, stopped on drop.
struct Registry(String);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/registry.sh"))
            .args(["stop", &self.0])
            .status();
    }
}

fn peers_missing() -> Option<String> {
    let cache = std::env::var("IRONROOT_CACHE").unwrap_or_else(|_| "/var/cache/ironroot".into());
    if !Path::new(&cache)
        .join("trixie-rootfs/.ironroot-stamp")
        .exists()
    {
        return Some(
            "the Debian 13 rootfs with skopeo is missing (scripts/trixie-rootfs.sh)".into(),
        );
    }
    let reg = Command::new("sh")
        .args(["-c", "command -v docker-registry"])
        .output()
        .ok()?;
    (!reg.status.success()).then(|| "docker-registry missing (scripts/install-deps.sh)".into())
}

#[test]
fn an_image_in_a_registry_is_scanned_as_a_stream_and_checked_by_digest() {
    if let Some(why) = peers_missing() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let w = Work::new("registry");
    w.update_db();
    let reg = Registry(w.p("registry"));
    let addr = ok(Command::new(repo().join("scripts/registry.sh"))
        .args(["start", &reg.0])
        .output()
        .unwrap());
    let addr = addr.trim();
    // skopeo 1.18 pushes the test image as it is (gzip layers, OCI manifest).
    ok(Command::new(repo().join("scripts/chroot-skopeo.sh"))
        .args([
            "--bind",
            &w.p(""),
            "copy",
            &format!("oci:{}:12", w.p("img/debian")),
            &format!("docker://{addr}/test/debian:12"),
            "--dest-tls-verify=false",
        ])
        .output()
        .unwrap());
    let (o, v) = w.scan(
        &format!("docker://{addr}/test/debian:12"),
        &["--plain-http"],
    );
    ok(o);
    assert_eq!(v["image"]["source"], "registry");
    assert_eq!(vulns(&v), DEBIAN_VULNS);
    let digest = v["image"]["manifest_digest"].as_str().unwrap().to_owned();
    // Pinned by digest: the same; pinned to a digest the registry does not have: refused.
    let (o, v) = w.scan(&format!("{addr}/test/debian@{digest}"), &["--plain-http"]);
    ok(o);
    assert_eq!(vulns(&v), DEBIAN_VULNS);
    let wrong = format!("{addr}/test/debian@sha256:{}", "0".repeat(64));
    let (o, _) = w.scan(&wrong, &["--plain-http"]);
    assert_eq!(o.status.code(), Some(1));
    // Without --plain-http, the scanner will not talk HTTP to it.
    let (o, _) = w.scan(&format!("{addr}/test/debian:12"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

fn content_findings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "secret" || f["category"] == "malware")
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["category"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["path"].as_str().unwrap(),
                f["layer"]
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn secrets_and_malware_are_found_in_every_layer_with_user_rules_and_allow_lists() {
    let w = Work::new("content");
    w.update_db();
    let img = w.p("img/debian");
    // The cloud key was deleted in layer 2 but ships in layer 1: still found, redacted.
    let (o, v) = w.scan(&img, &[]);
    ok(o);
    assert_eq!(
        content_findings(&v),
        [
            "malware eicar_test_file tmp/eicar.com 1",
            "secret aws-access-key-id root/.aws/credentials 1",
            "secret aws-secret-access-key root/.aws/credentials 1",
        ]
    );
    let text = v.to_string();
    assert!(!text.contains("AKIAIRONROOTTESTKEY2") && !text.contains("wJalrXUtnFEMI/K7MDENG"));

    // A user's allow-list entry and secret rule, and a user's YARA rule.
    std::fs::write(
        w.p("rules.toml"),
        "[[allow]]\ndescription = \"a throwaway key of the test image\"\nrules = [\"aws-access-key-id\"]\npaths = [\"root/.aws/**\"]\n\n\
         [[rule]]\nid = \"bash-history\"\ntitle = \"PermitRootLogin in config\"\nseverity = \"low\"\nkeywords = [\"permitrootlogin\"]\nregex = '''(?i)permitrootlogin\\s+(?P<secret>yes)'''\n",
    )
    .unwrap();
    std::fs::write(
        w.p("mine.yar"),
        "rule fake_sshd { meta: severity = \"medium\" description = \"not an ELF\" strings: $a = \"ELF-not-really\" condition: $a }\n",
    )
    .unwrap();
    let (o, v) = w.scan(
        &img,
        &[
            "--secret-rules",
            &w.p("rules.toml"),
            "--yara-rules",
            &w.p("mine.yar"),
        ],
    );
    ok(o);
    assert_eq!(
        content_findings(&v),
        [
            "malware eicar_test_file tmp/eicar.com 1",
            "malware fake_sshd usr/bin/su 1",
            "malware fake_sshd usr/sbin/sshd 1",
            "secret aws-secret-access-key root/.aws/credentials 1",
            "secret bash-history etc/ssh/sshd_config 1",
        ]
    );
    // A YARA rule that does not compile is a clear error naming the file.
    std::fs::write(w.p("bad.yar"), "rule broken { condition: $nothing }\n").unwrap();
    let (o, _) = w.scan(&img, &["--yara-rules", &w.p("bad.yar")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.yar"), "{}", stderr(&o));
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

/// A registry that asks for credentials: the scan reads them where `skopeo login` wrote
/// them (REGISTRY_AUTH_FILE), says what to do when it has none, and fails on wrong ones.
#[test]
fn a_private_registry_is_read_with_the_credentials_skopeo_login_wrote() {
    if let Some(why) = peers_missing() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let w = Work::new("registry-auth");
    w.update_db();
    let password = "s3cret-Registry-pw";
    let hash = ok(Command::new("mkpasswd")
        .args(["-m", "bcrypt", password])
        .output()
        .unwrap());
    std::fs::write(w.0.join("htpasswd"), format!("alice:{}\n", hash.trim())).unwrap();
    let reg = Registry(w.p("registry"));
    let addr = ok(Command::new(repo().join("scripts/registry.sh"))
        .args(["start", &reg.0])
        .env("REGISTRY_HTPASSWD", w.0.join("htpasswd"))
        .output()
        .unwrap());
    let addr = addr.trim();
    let skopeo = |args: &[&str]| {
        Command::new(repo().join("scripts/chroot-skopeo.sh"))
            .args(["--bind", &w.p("")])
            .args(args)
            .output()
            .unwrap()
    };
    let authfile = w.p("auth.json");
    ok(skopeo(&[
        "login",
        "--tls-verify=false",
        "--authfile",
        &authfile,
        "-u",
        "alice",
        "-p",
        password,
        addr,
    ]));
    ok(skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-authfile",
        &authfile,
        &format!("oci:{}:12", w.p("img/debian")),
        &format!("docker://{addr}/team/debian:12"),
    ]));
    let image = format!("{addr}/team/debian:12");
    let scan = |auth: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ironroot"));
        c.args(["scan", &image, "--plain-http", "--max-db-age", "100000d"])
            .args(["--format", "json", "--no-store"])
            .envs(w.env())
            // Nothing found in the usual places: an empty home, no runtime dir.
            .env("HOME", w.p("home"))
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE");
        if let Some(f) = auth {
            c.env("REGISTRY_AUTH_FILE", f);
        }
        c.output().unwrap()
    };
    let o = scan(Some(&authfile));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    ok(o);
    assert_eq!(vulns(&v), DEBIAN_VULNS);

    let o = scan(None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("skopeo login"), "{}", stderr(&o));

    std::fs::write(
        w.0.join("wrong.json"),
        format!(r#"{{"auths": {{"{addr}": {{"username": "alice", "password": "not-it"}}}}}}"#),
    )
    .unwrap();
    let o = scan(Some(&w.p("wrong.json")));
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("not-it"), "{}", stderr(&o));
}
