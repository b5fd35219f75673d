#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot scan` of images in a registry: Debian's docker-registry on loopback, the test
//! image pushed by skopeo 1.18. Read as a stream and checked by digest (pinned, by tag,
//! a wrong pin); a registry that asks for credentials read with those `skopeo login`
//! wrote, and refused without them or with wrong ones.

mod scan_lab;

use scan_lab::{ok, repo, stderr, vulns, Work, DEBIAN_VULNS};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

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
        ironroot_testkit::skip_missing_peer(&why);
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

/// A registry that asks for credentials: the scan reads them where `skopeo login` wrote
/// them (REGISTRY_AUTH_FILE), says what to do when it has none, and fails on wrong ones.
#[test]
fn a_private_registry_is_read_with_the_credentials_skopeo_login_wrote() {
    if let Some(why) = peers_missing() {
        ironroot_testkit::skip_missing_peer(&why);
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
