//! The vulnerability database's directory, as `ironroot db update` installs it:
//! `metadata.json`, `osv.jsonl` (one OSV record per line) and `debian-tracker.json` (the
//! tracker's export, as fetched). Every record was validated when it was installed; it
//! is parsed again here with the same limits, and a bad line refuses the whole load.

use ironroot_timestamp::rfc3339;
use ironroot_vulndb::Database;
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::Path;

/// The `schema` of `metadata.json`.
pub const SCHEMA: &str = "ironroot.vulndb/v1";

/// Largest `metadata.json` read.
const MAX_METADATA: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub schema: String,
    /// Unix seconds of `db update`; grows with every update, so it is also the
    /// generation that stored inventories are compared by.
    pub updated_at: u64,
    /// Unix seconds of the newest advisory's `modified` (else of the update): how fresh
    /// the data is, which is what a maximum database age measures.
    pub built_at: u64,
    pub sources: Vec<String>,
    pub osv_records: u64,
    pub tracker_issues: u64,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    #[error("no vulnerability database at {0} (run ironroot db update --from FILE|DIR|URL)")]
    Missing(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error(
        "the vulnerability database is {} days old (newest advisory {}; loaded {}), older than \
         the {} days --max-db-age allows; run ironroot db update, or raise --max-db-age knowingly",
        .age / 86_400,
        rfc3339::format(*.built_at),
        rfc3339::format(*.updated_at),
        .max_age / 86_400
    )]
    TooOld {
        age: u64,
        max_age: u64,
        built_at: u64,
        updated_at: u64,
    },
}

/// Refuses a database whose data is older than `max_age` seconds at `now`: what it does
/// not know about may be the vulnerability that matters.
pub fn check_age(m: &Metadata, max_age: u64, now: u64) -> Result<(), DatabaseError> {
    let age = now.saturating_sub(m.built_at);
    if age > max_age {
        return Err(DatabaseError::TooOld {
            age,
            max_age,
            built_at: m.built_at,
            updated_at: m.updated_at,
        });
    }
    Ok(())
}

impl Metadata {
    /// What a scan report says about the database it was matched against.
    pub fn report_info(&self) -> ironroot_scanner::DatabaseInfo {
        ironroot_scanner::DatabaseInfo {
            built_at: rfc3339::format(self.built_at),
            updated_at: rfc3339::format(self.updated_at),
            records: self.osv_records + self.tracker_issues,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatabaseError + '_ {
    move |source| DatabaseError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn invalid(path: &Path, reason: impl ToString) -> DatabaseError {
    DatabaseError::Invalid {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads `DIR/metadata.json`, refusing an unknown schema.
pub fn read_metadata(dir: &Path) -> Result<Metadata, DatabaseError> {
    let path = dir.join("metadata.json");
    let len = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DatabaseError::Missing(dir.display().to_string()))
        }
        Err(e) => return Err(io(&path)(e)),
    };
    if len > MAX_METADATA {
        return Err(invalid(&path, format!("larger than {MAX_METADATA} bytes")));
    }
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let m: Metadata = serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e))?;
    if m.schema != SCHEMA {
        return Err(invalid(&path, format!("unknown schema {:?}", m.schema)));
    }
    Ok(m)
}

/// Loads the database at `dir` for matching.
pub fn load(dir: &Path) -> Result<Database, DatabaseError> {
    let mut db = Database::new();
    let osv = dir.join("osv.jsonl");
    if osv.exists() {
        let f = std::io::BufReader::new(std::fs::File::open(&osv).map_err(io(&osv))?);
        for (i, line) in f.lines().enumerate() {
            let line = line.map_err(io(&osv))?;
            db.add_osv_json(line.as_bytes())
                .map_err(|e| invalid(&osv, format!("line {}: {e}", i + 1)))?;
        }
    }
    let tracker = dir.join("debian-tracker.json");
    if tracker.exists() {
        let bytes = std::fs::read(&tracker).map_err(io(&tracker))?;
        db.add_debian_tracker_json(&bytes)
            .map_err(|e| invalid(&tracker, e))?;
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("ironroot-inventory-db-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn a_missing_database_says_how_to_get_one() {
        let tmp = scratch("missing");
        let d = tmp.path();
        let e = read_metadata(d).unwrap_err().to_string();
        assert!(e.contains("ironroot db update"), "{e}");
    }

    #[test]
    fn an_unknown_schema_and_a_bad_record_are_refused() {
        let tmp = scratch("bad");
        let d = tmp.path();
        std::fs::write(
            d.join("metadata.json"),
            r#"{"schema":"other/v9","updated_at":1,"built_at":1,"sources":[],"osv_records":0,"tracker_issues":0}"#,
        )
        .unwrap();
        let e = read_metadata(d).unwrap_err().to_string();
        assert!(e.contains("unknown schema"), "{e}");
        std::fs::write(d.join("osv.jsonl"), "{\"id\": 1}\n").unwrap();
        let Err(e) = load(d) else {
            panic!("a bad record was loaded")
        };
        let e = e.to_string();
        assert!(e.contains("osv.jsonl: line 1"), "{e}");
    }
    #[test]
    fn a_database_older_than_allowed_is_refused() {
        let m = Metadata {
            schema: SCHEMA.into(),
            updated_at: 1_709_209_815,
            built_at: 1_709_164_800,
            sources: Vec::new(),
            osv_records: 2,
            tracker_issues: 3,
        };
        let week = 7 * 86_400;
        assert!(check_age(&m, week, m.built_at + week).is_ok());
        let e = check_age(&m, week, m.built_at + week + 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the vulnerability database is 7 days old (newest advisory 2024-02-29T00:00:00Z; \
             loaded 2024-02-29T12:30:15Z), older than the 7 days --max-db-age allows; run \
             ironroot db update, or raise --max-db-age knowingly"
        );
        assert_eq!(m.report_info().records, 5);
        assert_eq!(m.report_info().updated_at, "2024-02-29T12:30:15Z");
    }
}
