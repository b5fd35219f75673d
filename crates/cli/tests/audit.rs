#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot audit export` and `ironroot audit verify` against a real service on loopback
//! (docs/audit.md, "Export and offline verification"). The log's entries come from
//! `ironroot cluster register` and `cluster remove`, which need no TPM: a bundle of one
//! cluster's entries (found by name, though its removal names only its id) verifies
//! offline with the log's key, an empty bundle still verifies, and an entry whose body is
//! edited in the bundle is named with the field that changed (exit status 1).

use ironroot_server::{EkCertPolicy, ServerConfig, Service};
use std::path::{Path, PathBuf};
use std::process::Output;

struct Platform {
    service: Option<Service>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        drop(self.service.take());
    }
}

impl Platform {
    fn start() -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new(dir.path().join("service"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        // No agent enrolls here: the log's entries come from cluster administration.
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let service = runtime.block_on(Service::start(config)).unwrap();
        Platform {
            service: Some(service),
            runtime,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ironroot ARGS` as the service's administrator.
    fn ironroot(&self, args: &[&str]) -> Output {
        let service = self.service.as_ref().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_ironroot"))
            .args(args)
            .env("IRONROOT_SERVER", format!("https://{}", service.addr))
            .env("IRONROOT_CA", self.path("service/ca.pem"))
            .env("IRONROOT_TOKEN_FILE", self.path("service/admin.token"))
            .output()
            .unwrap()
    }

    /// `ironroot ARGS`, which must succeed: its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.ironroot(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_exported_bundle_verifies_offline_and_an_edited_entry_is_named() {
    let p = Platform::start();
    let mut ids = Vec::new();
    for name in ["east", "west", "north"] {
        let out = p.path(&format!("{name}-identity"));
        let json = p.ok(&[
            "--output",
            "json",
            "cluster",
            "register",
            name,
            "--out",
            s(&out),
        ]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    p.ok(&["cluster", "remove", &ids[1]]);
    let key = p.runtime.block_on(fetch_key(&p));
    std::fs::write(p.path("log.pub"), &key).unwrap();
    let range = ["--since", "0", "--until", "2100-01-01T00:00:00Z"];

    // west by name: its registration, and its removal (which names only its id).
    let west = p.path("west-bundle");
    let mut args = vec!["audit", "export", "--cluster", "west", "--out", s(&west)];
    args.extend(range);
    let out = p.ok(&args);
    assert!(out.starts_with("2 entries exported"), "{out}");
    let o = p.ironroot(&[
        "audit",
        "verify",
        s(&west),
        "--key-file",
        s(&p.path("log.pub")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains("entries: 2 read, 2 verified") && report.contains("OK"),
        "{report}"
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
    // Without a key, the bundle's own log-key is used, with a warning.
    let o = p.ironroot(&["audit", "verify", s(&west)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: no --key"));
    // An export never replaces a bundle.
    assert_eq!(p.ironroot(&args).status.code(), Some(1));

    // Nothing matches: a bundle of 0 entries, which still proves the checkpoint.
    let empty = p.path("empty-bundle");
    let mut args = vec!["audit", "export", "--host", "nobody", "--out", s(&empty)];
    args.extend(range);
    assert!(p.ok(&args).starts_with("0 entries exported"));
    let o = p.ironroot(&["audit", "verify", s(&empty), "--key", key.trim()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Everything, then north's registration edited: that entry is named, with the field.
    let all = p.path("all-bundle");
    let mut args = vec!["audit", "export", "--out", s(&all)];
    args.extend(range);
    // (At least the four cluster entries: the service may log more.)
    let out = p.ok(&args);
    let count: usize = out.split(' ').next().unwrap().parse().unwrap();
    assert!(count >= 4, "{out}");
    let entries = all.join("entries.jsonl");
    let jsonl = std::fs::read_to_string(&entries).unwrap();
    assert_eq!(jsonl.lines().count(), count);
    let csv = std::fs::read_to_string(all.join("entries.csv")).unwrap();
    assert_eq!(csv.lines().count(), count + 1);
    let north = jsonl
        .lines()
        .find(|l| l.contains(r#""name":"north""#))
        .unwrap();
    let north: serde_json::Value = serde_json::from_str(north).unwrap();
    std::fs::write(
        &entries,
        jsonl.replace(r#""name":"north""#, r#""name":"south""#),
    )
    .unwrap();
    let o = p.ironroot(&[
        "audit",
        "verify",
        s(&all),
        "--key-file",
        s(&p.path("log.pub")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    let want = format!(
        "FAILED: entry {}: leaf mismatch: field body differs",
        north["index"]
    );
    assert!(report.contains(&want), "{report}");

    // Usage and I/O errors: exit status 2.
    let o = p.ironroot(&[
        "audit",
        "verify",
        s(&p.path("no-such-dir")),
        "--key",
        key.trim(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = p.ironroot(&["audit", "verify", s(&all), "--key", "not a key"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// The log's key as the service publishes it (what an auditor pins).
async fn fetch_key(p: &Platform) -> String {
    let service = p.service.as_ref().unwrap();
    let ca = std::fs::read(p.path("service/ca.pem")).unwrap();
    let token = std::fs::read_to_string(p.path("service/admin.token")).unwrap();
    let client = ironroot_client::Client::admin(
        &format!("https://{}", service.addr),
        &ca,
        token.trim(),
        ironroot_client::PlainHttp::Refused,
    )
    .unwrap();
    client.audit_key().await.unwrap()
}

/// An organisation's auditor exports only its organisation's entries (its clusters'
/// registrations, here), each proved against the log's checkpoint: the bundle verifies
/// offline, the export says that only that organisation's entries were served, and
/// another organisation's cluster is not in it.
#[test]
fn an_organisations_auditor_exports_its_own_entries_and_they_verify() {
    let p = Platform::start();
    let mut auditor = None;
    for org in ["acme", "globex"] {
        p.ok(&["org", "create", org]);
        let token = |role: &str| {
            let t = p.ok(&[
                "token",
                "create",
                "--name",
                &format!("{org}-{role}"),
                "--role",
                role,
                "--org",
                org,
                "--lifetime",
                "1h",
            ]);
            let file = p.path(&format!("{org}-{role}.token"));
            std::fs::write(&file, t.trim()).unwrap();
            file
        };
        let operator = token("operator");
        let out = p.path(&format!("{org}-identity"));
        p.ok(&[
            "cluster",
            "register",
            &format!("{org}-prod"),
            "--out",
            s(&out),
            "--token-file",
            s(&operator),
        ]);
        if org == "acme" {
            auditor = Some(token("auditor"));
        }
    }
    let auditor = auditor.unwrap();
    let key = p.runtime.block_on(fetch_key(&p));
    std::fs::write(p.path("log.pub"), &key).unwrap();
    let bundle = p.path("acme-bundle");
    let out = p.ok(&[
        "audit",
        "export",
        "--since",
        "0",
        "--until",
        "2100-01-01T00:00:00Z",
        "--out",
        s(&bundle),
        "--token-file",
        s(&auditor),
    ]);
    assert!(out.contains("only acme's entries were served"), "{out}");
    let o = p.ironroot(&[
        "audit",
        "verify",
        s(&bundle),
        "--key-file",
        s(&p.path("log.pub")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let entries = std::fs::read_to_string(bundle.join("entries.jsonl")).unwrap();
    assert!(entries.contains("acme-prod"), "{entries}");
    assert!(!entries.contains("globex"), "{entries}");
    // The platform's export (the bootstrap token) holds both.
    let all = p.path("all-bundle");
    p.ok(&[
        "audit",
        "export",
        "--since",
        "0",
        "--until",
        "2100-01-01T00:00:00Z",
        "--out",
        s(&all),
    ]);
    let entries = std::fs::read_to_string(all.join("entries.jsonl")).unwrap();
    assert!(entries.contains("acme-prod") && entries.contains("globex-prod"));
}
