#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot key ...` and `ironroot host tag|untag`: the real binary against a real
//! service on loopback (no nodes), reached the way an administrator reaches it, through
//! `IRONROOT_SERVER`, `IRONROOT_CA` and `IRONROOT_TOKEN_FILE`.

use ironroot_api::{KeyInfo, ReleaseRecord};
use ironroot_server::{EkCertPolicy, ServerConfig, Service};
use std::process::{Command, Output};

/// A service with its own data directory; both go away on drop.
struct Platform {
    service: Option<Service>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Platform {
    fn start(name: &str) -> Platform {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ironroot-keys-cli-{name}-"))
            .tempdir()
            .unwrap();
        let mut config = ServerConfig::new(dir.path().join("service"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        // The service runs on this runtime's workers while the test blocks on the binary.
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

    /// Runs `ironroot ARGS` as an administrator of this service.
    fn ironroot(&self, args: &[&str]) -> Output {
        let service = self.service.as_ref().unwrap();
        let data = self.dir.path().join("service");
        Command::new(env!("CARGO_BIN_EXE_ironroot"))
            .args(args)
            .env("IRONROOT_SERVER", format!("https://{}", service.addr))
            .env("IRONROOT_CA", data.join("ca.pem"))
            .env("IRONROOT_TOKEN_FILE", data.join("admin.token"))
            .env_remove("IRONROOT_LOG")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.ironroot(args);
        assert!(
            out.status.success(),
            "ironroot {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail with exit code 1; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.ironroot(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "ironroot {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn keys(&self) -> Vec<KeyInfo> {
        serde_json::from_str(&self.ok(&["key", "list", "--output", "json"])).unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        // The service stops before its directory (a field, dropped after this) goes.
        drop(self.service.take());
    }
}

#[test]
fn key_create_list_show_and_an_empty_release_log() {
    let p = Platform::start("lifecycle");
    let created = p.ok(&[
        "key",
        "create",
        "payments-eu",
        "--tag",
        "region=EU",
        "--tag",
        "owner=payments",
        "--group",
        "payments",
        "--expires",
        "2100-01-01T00:00:00Z",
    ]);
    assert!(created.contains("payments-eu"), "{created}");
    assert!(created.contains("owner=payments, region=EU"), "{created}");
    assert!(created.contains("2100-01-01T00:00:00Z"), "{created}");
    assert!(
        created.contains("skopeo copy --encryption-key provider:ironroot:payments-eu"),
        "{created}"
    );

    // "Any trusted node" must be asked for: a key without conditions is refused.
    let err = p.fails(&["key", "create", "team/any"]);
    assert!(
        err.contains("does not say who may receive the key") && err.contains("--any-trusted-node"),
        "{err}"
    );
    let json = p.ok(&[
        "key",
        "create",
        "team/any",
        "--any-trusted-node",
        "--output",
        "json",
    ]);
    let any: KeyInfo = serde_json::from_str(&json).unwrap();
    assert_eq!(any.name, "team/any");
    assert!(any.policy.any_trusted_node);
    assert!(any.policy.asset_tags.is_empty() && any.policy.flavor_groups.is_empty());
    assert!(!any.imported);

    let keys = p.keys();
    assert_eq!(keys.len(), 2);
    let eu = keys.iter().find(|k| k.name == "payments-eu").unwrap();
    assert_eq!(eu.policy.asset_tags["region"], "EU");
    assert_eq!(eu.policy.asset_tags["owner"], "payments");
    assert_eq!(eu.policy.flavor_groups, ["payments"]);
    assert_eq!(eu.policy.expires_at, Some(4_102_444_800));

    let table = p.ok(&["key", "list"]);
    assert!(table.starts_with("NAME"), "{table}");
    for want in [
        "payments-eu",
        &eu.key_id,
        "tags owner=payments, region=EU; groups payments; until 2100-01-01T00:00:00Z",
        "team/any",
        "any trusted node",
    ] {
        assert!(table.contains(want), "{want} missing from\n{table}");
    }

    // By name (a '/' in it included) and by id.
    let shown: KeyInfo =
        serde_json::from_str(&p.ok(&["key", "show", "team/any", "--output", "json"])).unwrap();
    assert_eq!(shown.key_id, any.key_id);
    let shown = p.ok(&["key", "show", &eu.key_id]);
    assert!(shown.contains("key       payments-eu"), "{shown}");
    assert!(shown.contains("judged by       payments"), "{shown}");

    let log = p.ok(&["key", "releases"]);
    assert_eq!(log.trim(), "no key releases or refusals recorded yet");
    let log: Vec<ReleaseRecord> =
        serde_json::from_str(&p.ok(&["key", "releases", "payments-eu", "--json"])).unwrap();
    assert!(log.is_empty());

    let err = p.fails(&["key", "show", "nope"]);
    assert!(
        err.contains("key nope") && err.contains("NotFound"),
        "{err}"
    );
    let err = p.fails(&["key", "releases", "nope", "--limit", "5"]);
    assert!(
        err.contains("key nope") && err.contains("NotFound"),
        "{err}"
    );
}

#[test]
fn key_create_refuses_a_duplicate_name() {
    let p = Platform::start("duplicate");
    p.ok(&["key", "create", "app", "--tag", "region=EU"]);
    let err = p.fails(&["key", "create", "app", "--tag", "region=US"]);
    assert!(
        err.contains("cannot create key app") && err.contains("a key named app exists"),
        "{err}"
    );
    let keys = p.keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].policy.asset_tags["region"], "EU",
        "the first key stays"
    );
}

#[test]
fn key_create_refuses_bad_tags_and_times() {
    let p = Platform::start("bad-args");
    let cases: [(&[&str], &str); 7] = [
        (&["--tag", "region"], "tag \"region\" is not KEY=VALUE"),
        (&["--tag", "=EU"], "tag \"=EU\" has an empty name"),
        (&["--tag", "region="], "tag \"region=\" has an empty value"),
        (
            &["--tag", "region=EU", "--tag", "region=US"],
            "tag region is given twice (region=EU and region=US)",
        ),
        (
            &["--expires", "tomorrow"],
            "--expires \"tomorrow\": give an RFC 3339 time",
        ),
        (
            &["--expires", "2030-02-30T00:00:00Z"],
            "give an RFC 3339 time",
        ),
        // Well formed but past: the service refuses it.
        (
            &["--any-trusted-node", "--expires", "1000"],
            "expires_at is in the past",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["key", "create", "k"];
        args.extend_from_slice(extra);
        let err = p.fails(&args);
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    // A tag no host could be certified with would make a key nobody receives.
    let err = p.fails(&["key", "create", "k", "--tag", "re gion=EU"]);
    assert!(err.contains("a tag name is 1 to 64 letters"), "{err}");
    let err = p.fails(&["key", "create", "k", "--tag", "region=EU,US"]);
    assert!(err.contains("without ','"), "{err}");
    assert!(p.keys().is_empty());
}

#[test]
fn key_import_takes_exactly_32_raw_bytes() {
    let p = Platform::start("import");
    let short = p.dir.path().join("short.key");
    let long = p.dir.path().join("long.key");
    let good = p.dir.path().join("good.key");
    std::fs::write(&short, [7u8; 31]).unwrap();
    std::fs::write(&long, [7u8; 64]).unwrap();
    std::fs::write(&good, [7u8; 32]).unwrap();

    let short = short.to_str().unwrap();
    let err = p.fails(&[
        "key",
        "create",
        "k",
        "--any-trusted-node",
        "--import-file",
        short,
    ]);
    assert!(
        err.contains("holds 31 bytes; an imported key is exactly 32 raw bytes"),
        "{err}"
    );
    let err = p.fails(&[
        "key",
        "create",
        "k",
        "--any-trusted-node",
        "--import-file",
        long.to_str().unwrap(),
    ]);
    assert!(err.contains("holds more than 32 bytes"), "{err}");
    let missing = p.dir.path().join("missing.key");
    let err = p.fails(&[
        "key",
        "create",
        "k",
        "--any-trusted-node",
        "--import-file",
        missing.to_str().unwrap(),
    ]);
    assert!(err.contains("missing.key"), "{err}");
    assert!(p.keys().is_empty());

    let out = p.ok(&[
        "key",
        "create",
        "k",
        "--any-trusted-node",
        "--import-file",
        good.to_str().unwrap(),
    ]);
    assert!(out.contains("material  imported"), "{out}");
    let keys = p.keys();
    assert!(keys[0].imported);
    assert!(p.ok(&["key", "list"]).contains("yes"));
}

#[test]
fn host_tag_on_an_unknown_host_is_not_found() {
    let p = Platform::start("unknown-host");
    let err = p.fails(&["host", "tag", "ghost", "region=EU"]);
    assert!(
        err.contains("cannot tag ghost: host ghost not found (NotFound)"),
        "{err}"
    );
    let err = p.fails(&["host", "tag", "ghost", "--show"]);
    assert!(err.contains("host ghost not found (NotFound)"), "{err}");
    let err = p.fails(&["host", "untag", "ghost"]);
    assert!(
        err.contains("cannot revoke the asset tag of ghost: host ghost not found (NotFound)"),
        "{err}"
    );
    // Malformed tags are refused before the service is asked.
    let err = p.fails(&["host", "tag", "ghost", "region=EU", "region=US"]);
    assert!(err.contains("tag region is given twice"), "{err}");
}

#[test]
fn help_explains_what_a_key_is_released_to() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ironroot"))
            .args(args)
            .output()
            .unwrap()
    };
    let help = String::from_utf8(run(&["key", "--help"]).stdout).unwrap();
    for want in [
        "fresh attestation",
        "certified with every asset tag",
        "skopeo copy --encryption-key provider:ironroot:NAME",
        "ironroot image encrypt",
    ] {
        assert!(help.contains(want), "{want} missing from\n{help}");
    }
    let help = String::from_utf8(run(&["host", "tag", "--help"]).stdout).unwrap();
    assert!(
        help.contains("KEY=VALUE") && help.contains("--show"),
        "{help}"
    );
    // Tags or --show, not neither and not both: a usage error.
    assert_eq!(run(&["host", "tag", "h"]).status.code(), Some(2));
    assert_eq!(
        run(&["host", "tag", "h", "a=b", "--show"]).status.code(),
        Some(2)
    );
}
