//! The local vulnerability database: `ironroot db update --from FILE|DIR|URL` validates
//! feeds and installs them in one step (a bad feed leaves the old database in place);
//! scans load it and refuse one older than `--max-db-age`.
//!
//! Layout of the directory: `metadata.json`, `osv.jsonl` (one OSV record per line) and
//! `debian-tracker.json` (the tracker's export, as fetched).

use crate::cmd::key::utc;
use anyhow::{bail, Context};
use ironroot_vulndb::Database;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest feed document read (the tracker's export is about 70 MB today).
const MAX_DOCUMENT: u64 = 1 << 30;
const MAX_FILES: usize = 2_000_000;

use ironroot_inventory::database::SCHEMA;
pub use ironroot_inventory::Metadata;

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

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Feeds gathered for an update, validated.
#[derive(Default)]
struct Staged {
    osv: Vec<Vec<u8>>,
    tracker: Option<Vec<u8>>,
    newest_modified: Option<u64>,
    sources: Vec<String>,
    tracker_issues: u64,
}

/// Loads every source into a staging area, validating each record, then replaces the
/// database at `dir` at once. Any invalid record refuses the whole update.
pub async fn update(dir: &Path, from: &[String]) -> anyhow::Result<Metadata> {
    anyhow::ensure!(!from.is_empty(), "give at least one --from FILE|DIR|URL");
    let mut staged = Staged::default();
    for src in from {
        if src.starts_with("https://") || src.starts_with("http://") {
            let bytes = download(src).await?;
            stage_document(&mut staged, src, bytes)?;
        } else {
            stage_path(&mut staged, Path::new(src))?;
        }
        staged.sources.push(src.clone());
    }
    anyhow::ensure!(
        !staged.osv.is_empty() || staged.tracker.is_some(),
        "no OSV record or Debian tracker export found in {}",
        from.join(", ")
    );
    // `updated_at` is also the generation stored inventories are compared by
    // (store.rs): it must grow with every update, even two in one second.
    let previous = metadata(dir).map(|m| m.updated_at).unwrap_or(0);
    let updated_at = now().max(previous + 1);
    let meta = Metadata {
        schema: SCHEMA.into(),
        updated_at,
        built_at: staged.newest_modified.unwrap_or(updated_at),
        sources: staged.sources.clone(),
        osv_records: staged.osv.len() as u64,
        tracker_issues: staged.tracker_issues,
    };
    install(dir, &staged, &meta)?;
    Ok(meta)
}

async fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(system_tls()?)
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

/// TLS with the system's CA bundle (`$SSL_CERT_FILE`, else Debian's).
fn system_tls() -> anyhow::Result<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let file = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    let pem = std::fs::read(&file).with_context(|| format!("CA bundle {}", file.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem).flatten() {
        let _ = roots.add(cert);
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

fn stage_path(staged: &mut Staged, path: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if !meta.is_dir() {
        let bytes = read_limited(path)?;
        return stage_document(staged, &path.display().to_string(), bytes);
    }
    let mut stack = vec![path.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("{}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
                anyhow::ensure!(
                    files.len() <= MAX_FILES,
                    "{}: more than {MAX_FILES} files",
                    path.display()
                );
            }
        }
    }
    files.sort();
    for f in files {
        let bytes = read_limited(&f)?;
        stage_document(staged, &f.display().to_string(), bytes)?;
    }
    Ok(())
}

fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)?.len();
    anyhow::ensure!(
        len <= MAX_DOCUMENT,
        "{}: larger than {MAX_DOCUMENT} bytes",
        path.display()
    );
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}

/// One JSON document: an OSV record, an array of them, or the tracker's export.
fn stage_document(staged: &mut Staged, name: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
    if bytes.starts_with(b"PK\x03\x04") {
        bail!(
            "{name}: a zip archive; unpack it first (unzip all.zip -d DIR) and give the directory"
        );
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{name}: not JSON"))?;
    let records = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(ref o) if o.get("id").is_some_and(|v| v.is_string()) => {
            vec![value]
        }
        serde_json::Value::Object(_) => {
            let issues = ironroot_vulndb::parse_debian_tracker(&bytes, &Default::default())
                .with_context(|| {
                    format!("{name}: neither an OSV record nor the Debian tracker's export")
                })?;
            anyhow::ensure!(
                staged.tracker.is_none(),
                "{name}: a second Debian tracker export"
            );
            staged.tracker_issues = issues.len() as u64;
            staged.tracker = Some(bytes);
            return Ok(());
        }
        _ => bail!("{name}: neither an OSV record nor the Debian tracker's export"),
    };
    for (i, v) in records.into_iter().enumerate() {
        let line = serde_json::to_vec(&v)?;
        let rec = ironroot_vulndb::parse_osv(&line, &Default::default()).with_context(|| {
            format!("{name}: record {i}: refused, the database was not changed")
        })?;
        if let Some(t) = rec
            .modified
            .as_deref()
            .and_then(|m| crate::cmd::key::parse_time(m).ok())
        {
            staged.newest_modified = Some(staged.newest_modified.map_or(t, |n| n.max(t)));
        }
        staged.osv.push(line);
    }
    Ok(())
}

fn install(dir: &Path, staged: &Staged, meta: &Metadata) -> anyhow::Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    let tmp = dir.with_extension("new");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let mut osv = std::io::BufWriter::new(std::fs::File::create(tmp.join("osv.jsonl"))?);
    for line in &staged.osv {
        osv.write_all(line)?;
        osv.write_all(b"\n")?;
    }
    osv.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    if let Some(t) = &staged.tracker {
        std::fs::write(tmp.join("debian-tracker.json"), t)?;
    }
    std::fs::write(tmp.join("metadata.json"), serde_json::to_vec_pretty(meta)?)?;
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old)?;
    }
    std::fs::rename(&tmp, dir)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

pub fn metadata(dir: &Path) -> anyhow::Result<Metadata> {
    Ok(ironroot_inventory::database::read_metadata(dir)?)
}

/// Refuses a database whose data is older than `max_age` seconds.
pub fn check_age(m: &Metadata, max_age: u64, now: u64) -> anyhow::Result<()> {
    let age = now.saturating_sub(m.built_at);
    if age > max_age {
        bail!(
            "the vulnerability database is {} days old (newest advisory {}; loaded {}), older than the {} days --max-db-age allows; \
             run ironroot db update, or raise --max-db-age knowingly",
            age / 86_400,
            utc(m.built_at),
            utc(m.updated_at),
            max_age / 86_400
        );
    }
    Ok(())
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
