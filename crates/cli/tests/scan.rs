#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot scan` on real test images (tests/fixtures/scan/make-images.sh: a bookworm
//! dpkg status over two layers, Alpine's apk database, an rpmdb.sqlite made by rpm 4.18),
//! read from an OCI layout, a `docker save` archive and a root filesystem, against a
//! database made of real advisories (crates/vulndb fixtures): packages, vulnerabilities,
//! configuration, secrets and malware, and the exit codes of the policy. Bad input: an
//! altered layer, a hostile layer. Registries: scan_registry.rs; the database and
//! rescans: scan_db.rs.

mod scan_lab;

use scan_lab::{ok, repo, stderr, vulns, Work, DEBIAN_VULNS};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;

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
