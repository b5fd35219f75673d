//! The local vulnerability database's shell: where it lives, the clock, fetching feeds
//! given as URLs; `ironroot_inventory::install` validates and installs them (a bad feed
//! leaves the old database in place), `ironroot_inventory::database` reads them back.

use anyhow::{bail, Context};
use ironroot_inventory::install::MAX_DOCUMENT;
use ironroot_inventory::{Feed, Staging};
use ironroot_vulndb::Database;
use std::path::{Path, PathBuf};

use super::DbCmd;
pub use ironroot_inventory::Metadata;
use std::process::ExitCode;

/// `ironroot db update` and `ironroot db status`.
pub async fn db_cmd(cmd: DbCmd, json: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCmd::Update { from, db } => {
            let dir = db.unwrap_or_else(default_dir);
            let m = update(&dir, &from).await?;
            print_meta(&dir, &m, json)?;
        }
        DbCmd::Status { db } => {
            let dir = db.unwrap_or_else(default_dir);
            let m = metadata(&dir)?;
            print_meta(&dir, &m, json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_meta(dir: &std::path::Path, m: &Metadata, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(m)?);
    } else {
        println!("database     {}", dir.display());
        println!("OSV records  {}", m.osv_records);
        println!("tracker      {} issues", m.tracker_issues);
        println!("newest data  {}", crate::cmd::key::utc(m.built_at));
        println!("loaded       {}", crate::cmd::key::utc(m.updated_at));
        println!("sources      {}", m.sources.join(", "));
    }
    Ok(())
}

/// `$IRONROOT_DB`, else `$XDG_CACHE_HOME/ironroot/db`, else `~/.cache/ironroot/db`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("IRONROOT_DB") {
        return d.into();
    }
    cache_home().join("ironroot/db")
}

pub fn cache_home() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"))
}

/// Loads every source into a staging area, validating each record, then replaces the
/// database at `dir` at once. Any invalid record refuses the whole update.
pub async fn update(dir: &Path, from: &[String]) -> anyhow::Result<Metadata> {
    anyhow::ensure!(!from.is_empty(), "give at least one --from FILE|DIR|URL");
    let mut staged = Staging::default();
    for src in from {
        let feed = if src.starts_with("https://") || src.starts_with("http://") {
            Feed::Document(download(src).await?)
        } else {
            Feed::Path(PathBuf::from(src))
        };
        staged.add(src, feed)?;
    }
    Ok(staged.install(dir, ironroot_timestamp::now_unix())?)
}

async fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(ironroot_tls::client_config(
            ironroot_tls::system_roots()?,
            None,
        )?)
        .timeout(std::time::Duration::from_secs(600))
        .build()?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?
        .error_for_status()
        .with_context(|| url.to_owned())?;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.with_context(|| url.to_owned())? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_DOCUMENT {
            bail!("{url}: larger than {MAX_DOCUMENT} bytes");
        }
    }
    Ok(body)
}

pub fn metadata(dir: &Path) -> anyhow::Result<Metadata> {
    Ok(ironroot_inventory::database::read_metadata(dir)?)
}

/// Refuses a database whose data is older than `max_age` seconds.
pub fn check_age(m: &Metadata, max_age: u64, now: u64) -> anyhow::Result<()> {
    Ok(ironroot_inventory::check_age(m, max_age, now)?)
}

/// Loads the database for matching.
pub fn load(dir: &Path) -> anyhow::Result<Database> {
    Ok(ironroot_inventory::database::load(dir)?)
}

/// `7d`, `36h`, `90m`, `3600s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: give a duration like 7d, 36h or 90m"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?}: too large"))
}
