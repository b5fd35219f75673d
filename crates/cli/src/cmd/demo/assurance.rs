//! The demo's image-assurance act (brief R13-R16): the scanner's test images (real
//! package databases: Debian 12's dpkg status, Alpine's apk database) are scanned and
//! their inventories submitted to the service, which watches a vulnerability database
//! of real advisories. A newer database is installed; the service rescans on its own,
//! without the images, and reports what became vulnerable.

use super::{step, wait_until};
use crate::cmd::admin::AdminClient;
use crate::peers::{run, scripts_dir};
use anyhow::{bail, Context};
use ironroot_inventory::RescanLog;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database directory the demo's service watches (`server --vulndb`).
pub(super) fn vulndb_dir(demo: &Path) -> PathBuf {
    demo.join("vulndb")
}

pub(super) struct Setup<'a> {
    pub dir: &'a Path,
    pub exe: &'a Path,
    pub url: &'a str,
    pub service_data: &'a Path,
    pub admin: &'a AdminClient,
}

/// Installs a database of the real advisories the tests use (crates/vulndb/tests/fixtures)
/// where the service watches, as `ironroot db update` does; returns its generation.
async fn install(s: &Setup<'_>, name: &str, files: &[&str]) -> anyhow::Result<u64> {
    let fixtures = scripts_dir().join("../crates/vulndb/tests/fixtures");
    let feed = s.dir.join("assurance").join(name);
    std::fs::create_dir_all(&feed)?;
    for f in files {
        let from = fixtures.join(f);
        let to = feed.join(Path::new(f).file_name().unwrap_or_default());
        std::fs::copy(&from, to).with_context(|| format!("{}", from.display()))?;
    }
    let (db, feed) = (
        vulndb_dir(s.dir).display().to_string(),
        feed.display().to_string(),
    );
    let meta = ironroot(
        s,
        &[
            "--output", "json", "db", "update", "--db", &db, "--from", &feed,
        ],
    )
    .await?;
    Ok(
        serde_json::from_str::<serde_json::Value>(&meta)?["updated_at"]
            .as_u64()
            .unwrap_or(0),
    )
}

async fn ironroot(s: &Setup<'_>, args: &[&str]) -> anyhow::Result<String> {
    let data = s.service_data;
    let out = run(tokio::process::Command::new(s.exe)
        .args(args)
        .env("IRONROOT_SERVER", s.url)
        .env("IRONROOT_CA", data.join("ca.pem"))
        .env("IRONROOT_TOKEN_FILE", data.join("admin.token"))
        .env(
            "IRONROOT_INVENTORIES",
            s.dir.join("assurance/cli-inventories"),
        )
        .env("IRONROOT_DB", vulndb_dir(s.dir)))
    .await?;
    // `scan` exits 2 for findings at --fail-on; the demo sets none, so any failure is one.
    if !out.ok {
        bail!("ironroot {}: {}", args.join(" "), out.stderr.trim());
    }
    Ok(out.stdout)
}

async fn generation_loaded(admin: &AdminClient, generation: u64) -> bool {
    admin
        .get::<RescanLog>("/v1/images/rescans")
        .await
        .is_ok_and(|l| l.database.is_some_and(|d| d.updated_at >= generation))
}

async fn rescanned(admin: &AdminClient, generation: u64) -> bool {
    admin
        .get::<RescanLog>("/v1/images/rescans")
        .await
        .is_ok_and(|l| {
            l.rescans
                .first()
                .is_some_and(|r| r.generation >= generation)
        })
}

pub(super) async fn act(s: Setup<'_>) -> anyhow::Result<()> {
    step("Image assurance: scanning images and keeping their inventories at the service");
    let work = s.dir.join("assurance");
    std::fs::create_dir_all(&work)?;
    let generation = install(&s, "feed-first", &["osv/ALPINE-CVE-2024-3094.json"]).await?;
    println!("    vulnerability database: 1 advisory (Alpine's xz backdoor, CVE-2024-3094)");
    wait_until(Duration::from_secs(30), || {
        generation_loaded(s.admin, generation)
    })
    .await
    .context("the service did not load the vulnerability database")?;

    let images = work.join("images");
    let made = run(tokio::process::Command::new(
        scripts_dir().join("../crates/cli/tests/fixtures/scan/make-images.sh"),
    )
    .arg(&images))
    .await?;
    if !made.ok {
        bail!("making the test images: {}", made.stderr.trim());
    }
    for (name, what) in [
        (
            "debian",
            "Debian 12, dpkg, 3 layers with planted weaknesses",
        ),
        ("alpine", "Alpine 3.20, apk"),
    ] {
        let report = work.join(format!("{name}.json"));
        let image = images.join(name).display().to_string();
        ironroot(
            &s,
            &[
                "scan",
                &image,
                "--max-db-age",
                "3650d",
                "--no-store",
                "--submit",
                "--format",
                "json",
                "-o",
                &report.display().to_string(),
            ],
        )
        .await?;
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
        let count = |k: &str| r[k].as_array().map_or(0, Vec::len);
        println!(
            "    {name:<7} ({what}): packages {}, vulnerabilities {}, configuration/secret/malware findings {}; inventory kept by the service",
            count("packages"),
            count("vulnerabilities"),
            count("findings")
        );
    }
    std::fs::remove_dir_all(&images)?;

    step("A new vulnerability database arrives: the service rescans on its own, without the images (they are deleted)");
    let newer = install(
        &s,
        "feed-full",
        &[
            "osv/DSA-5514-1.json",
            "osv/DEBIAN-CVE-2023-45853.json",
            "osv/ALPINE-CVE-2024-5535.json",
            "osv/ALPINE-CVE-2024-3094.json",
            "debian-tracker-excerpt.json",
        ],
    )
    .await?;
    wait_until(Duration::from_secs(60), || rescanned(s.admin, newer))
        .await
        .context("the service did not rescan after the database changed")?;
    let shown = ironroot(&s, &["rescan", "--service"]).await?;
    // The newest rescan only (the service lists its latest ones).
    let newest = shown.split("\n\n").take(2).collect::<Vec<_>>().join("\n\n");
    for line in newest.lines() {
        println!("    {line}");
    }
    Ok(())
}
