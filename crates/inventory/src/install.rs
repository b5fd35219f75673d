//! Installing the vulnerability database (`ironroot db update`): feeds are staged and
//! every record validated first, then the directory is replaced in one step, so a bad feed
//! leaves the old database as it was. The caller fetches URLs (this crate has no network
//! client) and hands their bodies in; files and directories are read here.
//!
//! What is written is what [`crate::database`] reads: `metadata.json`, `osv.jsonl` (one
//! OSV record per line) and `debian-tracker.json` (the tracker's export, as fetched).

use crate::database::{read_metadata, Metadata, SCHEMA};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest feed document read (the tracker's export is about 70 MB today).
pub const MAX_DOCUMENT: u64 = 1 << 30;
const MAX_FILES: usize = 2_000_000;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] std::io::Error),
    #[error("{0}: more than {MAX_FILES} files")]
    TooManyFiles(String),
    #[error("{0}: larger than {MAX_DOCUMENT} bytes")]
    TooLarge(String),
    #[error("{0}: a zip archive; unpack it first (unzip all.zip -d DIR) and give the directory")]
    Zip(String),
    #[error("{0}: not JSON")]
    NotJson(String, #[source] serde_json::Error),
    #[error("{0}: neither an OSV record nor the Debian tracker's export")]
    // Boxed: the feed parser's error is large, and errors are the rare path.
    NotAFeed(String, #[source] Option<Box<ironroot_vulndb::Error>>),
    #[error("{0}: a second Debian tracker export")]
    SecondTracker(String),
    #[error("{name}: record {index}: refused, the database was not changed")]
    Record {
        name: String,
        index: usize,
        #[source]
        source: Box<ironroot_vulndb::Error>,
    },
    #[error("no OSV record or Debian tracker export found in {0}")]
    Empty(String),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One `--from` source: a file or directory to read, or a document already fetched.
pub enum Feed {
    Path(PathBuf),
    Document(Vec<u8>),
}

/// Feeds gathered for an update, every record validated.
#[derive(Default)]
pub struct Staging {
    osv: Vec<Vec<u8>>,
    tracker: Option<Vec<u8>>,
    newest_modified: Option<u64>,
    sources: Vec<String>,
    tracker_issues: u64,
}

impl Staging {
    /// Stages one source, named as the user gave it; any invalid record refuses it.
    pub fn add(&mut self, source: &str, feed: Feed) -> Result<(), InstallError> {
        match feed {
            Feed::Document(bytes) => self.document(source, bytes)?,
            Feed::Path(path) => self.path(&path)?,
        }
        self.sources.push(source.to_owned());
        Ok(())
    }

    fn path(&mut self, path: &Path) -> Result<(), InstallError> {
        let meta = std::fs::metadata(path).map_err(at(path))?;
        if !meta.is_dir() {
            let bytes = read_limited(path)?;
            return self.document(&path.display().to_string(), bytes);
        }
        let mut stack = vec![path.to_path_buf()];
        let mut files = Vec::new();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).map_err(at(&d))? {
                let p = e?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    files.push(p);
                    if files.len() > MAX_FILES {
                        return Err(InstallError::TooManyFiles(path.display().to_string()));
                    }
                }
            }
        }
        files.sort();
        for f in files {
            let bytes = read_limited(&f)?;
            self.document(&f.display().to_string(), bytes)?;
        }
        Ok(())
    }

    /// One JSON document: an OSV record, an array of them, or the tracker's export.
    fn document(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), InstallError> {
        if bytes.starts_with(b"PK\x03\x04") {
            return Err(InstallError::Zip(name.to_owned()));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| InstallError::NotJson(name.to_owned(), e))?;
        let records = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(ref o) if o.get("id").is_some_and(|v| v.is_string()) => {
                vec![value]
            }
            serde_json::Value::Object(_) => return self.tracker(name, bytes),
            _ => return Err(InstallError::NotAFeed(name.to_owned(), None)),
        };
        for (index, v) in records.into_iter().enumerate() {
            let line = serde_json::to_vec(&v)?;
            let rec = ironroot_vulndb::parse_osv(&line, &Default::default()).map_err(|source| {
                InstallError::Record {
                    name: name.to_owned(),
                    index,
                    source: Box::new(source),
                }
            })?;
            if let Some(t) = rec.modified.as_deref().and_then(modified_time) {
                self.newest_modified = Some(self.newest_modified.map_or(t, |n| n.max(t)));
            }
            self.osv.push(line);
        }
        Ok(())
    }

    fn tracker(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), InstallError> {
        let issues = ironroot_vulndb::parse_debian_tracker(&bytes, &Default::default())
            .map_err(|e| InstallError::NotAFeed(name.to_owned(), Some(Box::new(e))))?;
        if self.tracker.is_some() {
            return Err(InstallError::SecondTracker(name.to_owned()));
        }
        self.tracker_issues = issues.len() as u64;
        self.tracker = Some(bytes);
        Ok(())
    }

    /// Replaces the database at `dir` with what was staged, at once; `now` is unix seconds.
    pub fn install(self, dir: &Path, now: u64) -> Result<Metadata, InstallError> {
        if self.osv.is_empty() && self.tracker.is_none() {
            return Err(InstallError::Empty(self.sources.join(", ")));
        }
        // `updated_at` is also the generation stored inventories are compared by
        // (store.rs): it must grow with every update, even two in one second.
        let previous = read_metadata(dir).map(|m| m.updated_at).unwrap_or(0);
        let updated_at = now.max(previous + 1);
        let meta = Metadata {
            schema: SCHEMA.into(),
            updated_at,
            built_at: self.newest_modified.unwrap_or(updated_at),
            sources: self.sources.clone(),
            osv_records: self.osv.len() as u64,
            tracker_issues: self.tracker_issues,
        };
        self.write(dir, &meta)?;
        Ok(meta)
    }

    fn write(&self, dir: &Path, meta: &Metadata) -> Result<(), InstallError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(at(parent))?;
        let tmp = dir.with_extension("new");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        let mut osv = std::io::BufWriter::new(std::fs::File::create(tmp.join("osv.jsonl"))?);
        for line in &self.osv {
            osv.write_all(line)?;
            osv.write_all(b"\n")?;
        }
        osv.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        if let Some(t) = &self.tracker {
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
}

/// An OSV `modified` time; unix seconds are accepted as they always were.
fn modified_time(m: &str) -> Option<u64> {
    if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) {
        return m.parse().ok();
    }
    ironroot_timestamp::rfc3339::parse(m)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, InstallError> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_DOCUMENT {
        return Err(InstallError::TooLarge(path.display().to_string()));
    }
    std::fs::read(path).map_err(at(path))
}

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;
