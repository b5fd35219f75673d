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

/// The real advisories the tests use (crates/vulndb/tests/fixtures), gathered in `to`.
fn feeds(to: &Path, files: &[&str]) -> anyhow::Result<()> {
    let fixtures = scripts_dir().join("../crates/vulndb/tests/fixtures");
    std::fs::create_dir_all(to)?;
    for f in files {
        let from = fixtures.join(f);
        let name = Path::new(f).file_name().unwrap_or_default();
        std::fs::copy(&from, to.join(name)).with_context(|| format!("{}", from.display()))?;
    }
    Ok(())
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
    let first = work.join("feed-first");
    feeds(&first, &["osv/ALPINE-CVE-2024-3094.json"])?;
    let db = vulndb_dir(s.dir);
    let db_arg = db.display().to_string();
    let meta = ironroot(
        &s,
        &[
            "--output",
            "json",
            "db",
            "update",
            "--db",
            &db_arg,
            "--from",
            &first.display().to_string(),
        ],
    )
    .await?;
    let generation = serde_json::from_str::<serde_json::Value>(&meta)?["updated_at"]
        .as_u64()
        .unwrap_or(0);
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
    let full = work.join("feed-full");
    feeds(
        &full,
        &[
            "osv/DSA-5514-1.json",
            "osv/DEBIAN-CVE-2023-45853.json",
            "osv/ALPINE-CVE-2024-5535.json",
            "osv/ALPINE-CVE-2024-3094.json",
            "debian-tracker-excerpt.json",
        ],
    )?;
    let meta = ironroot(
        &s,
        &[
            "--output",
            "json",
            "db",
            "update",
            "--db",
            &db_arg,
            "--from",
            &full.display().to_string(),
        ],
    )
    .await?;
    let newer = serde_json::from_str::<serde_json::Value>(&meta)?["updated_at"]
        .as_u64()
        .unwrap_or(0);
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
