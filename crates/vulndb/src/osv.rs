//! OSV records (schema 1.7) from bytes. Fields this crate does not use are ignored, since OSV
//! grows; fields it uses are checked, and counts are bounded by [`Limits`].

use serde::Deserialize;

use crate::{Error, Limits};

const WHAT: &str = "OSV record";

/// One OSV record, as far as matching needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OsvRecord {
    /// `DSA-5514-1`, `DEBIAN-CVE-2023-45853`, `ALPINE-CVE-2024-5535`, `CVE-...`.
    pub id: String,
    /// `aliases` followed by `upstream`: the other names of the same vulnerability.
    pub aliases: Vec<String>,
    /// RFC 3339 timestamps as the record has them.
    pub modified: Option<String>,
    /// When first published.
    pub published: Option<String>,
    /// Set when the record was withdrawn; such records are never matched.
    pub withdrawn: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// Record-level severities.
    pub severity: Vec<SeverityVector>,
    /// The affected packages.
    pub affected: Vec<Affected>,
}

/// One `severity[]` entry: `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu` and its score text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SeverityVector {
    /// The `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or word.
    pub score: String,
}

/// One `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Affected {
    /// `package.ecosystem`, e.g. `Debian:12`.
    pub ecosystem: String,
    /// `package.name` (a source package for Debian).
    pub name: String,
    /// `package.purl`.
    pub purl: Option<String>,
    /// The ranges.
    pub ranges: Vec<OsvRange>,
    /// Exact affected versions.
    pub versions: Vec<String>,
    /// Per-package severities (schema 1.7), which override the record's.
    pub severity: Vec<SeverityVector>,
    /// `ecosystem_specific.urgency` (Debian) or `.priority`, when a string.
    pub distribution_rating: Option<String>,
}

/// The kind of an OSV range.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeKind {
    /// Versions of the package's ecosystem: the only kind used for distribution packages.
    Ecosystem,
    /// Semantic versions.
    Semver,
    /// Git commits.
    Git,
    /// A type this crate does not know.
    Other(String),
}

/// One event of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsvEvent {
    /// The version where it starts (`0`: before everything).
    Introduced(String),
    /// The first version no longer affected.
    Fixed(String),
    /// The last version still affected.
    LastAffected(String),
    /// An upper bound (`*`: none).
    Limit(String),
}

/// One range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvRange {
    /// Its type.
    pub kind: RangeKind,
    /// Its events in record order.
    pub events: Vec<OsvEvent>,
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    aliases: Option<Vec<String>>,
    upstream: Option<Vec<String>>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    summary: Option<String>,
    severity: Option<Vec<SeverityVector>>,
    affected: Option<Vec<RawAffected>>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    severity: Option<Vec<SeverityVector>>,
    ranges: Option<Vec<RawRange>>,
    versions: Option<Vec<String>>,
    ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

/// Only the id, for naming a record that is refused before a full parse.
#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

/// Parses one OSV record (a JSON object) under `limits`.
pub fn parse_osv(input: &[u8], limits: &Limits) -> Result<OsvRecord, Error> {
    if input.len() > limits.max_osv_record_bytes {
        return Err(Error::TooLarge {
            what: WHAT,
            id: id_of(input),
            len: input.len(),
            max: limits.max_osv_record_bytes,
        });
    }
    let raw: RawRecord = serde_json::from_slice(input).map_err(|e| Error::Malformed {
        what: WHAT,
        id: id_of(input),
        reason: e.to_string(),
    })?;
    let id = raw.id;
    let raw_affected = raw.affected.unwrap_or_default();
    check_count(
        &id,
        "affected entries",
        raw_affected.len(),
        limits.max_affected,
    )?;
    let affected = raw_affected
        .into_iter()
        .map(|a| convert_affected(&id, a, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let mut aliases = raw.aliases.unwrap_or_default();
    aliases.extend(raw.upstream.unwrap_or_default());
    check_count(&id, "aliases", aliases.len(), limits.max_aliases)?;
    Ok(OsvRecord {
        aliases,
        modified: raw.modified,
        published: raw.published,
        withdrawn: raw.withdrawn,
        summary: raw.summary,
        severity: raw.severity.unwrap_or_default(),
        affected,
        id,
    })
}

fn convert_affected(id: &str, raw: RawAffected, limits: &Limits) -> Result<Affected, Error> {
    let package = raw.package.ok_or_else(|| Error::Malformed {
        what: WHAT,
        id: Some(id.to_owned()),
        reason: "affected entry without package".into(),
    })?;
    let raw_ranges = raw.ranges.unwrap_or_default();
    check_count(id, "ranges", raw_ranges.len(), limits.max_ranges)?;
    let versions = raw.versions.unwrap_or_default();
    check_count(id, "versions", versions.len(), limits.max_versions)?;
    let ranges = raw_ranges
        .into_iter()
        .map(|r| convert_range(id, r, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let distribution_rating = raw.ecosystem_specific.as_ref().and_then(|v| {
        ["urgency", "priority"]
            .iter()
            .find_map(|k| v.get(k).and_then(|s| s.as_str()).map(str::to_owned))
    });
    Ok(Affected {
        ecosystem: package.ecosystem,
        name: package.name,
        purl: package.purl,
        ranges,
        versions,
        severity: raw.severity.unwrap_or_default(),
        distribution_rating,
    })
}

fn convert_range(id: &str, raw: RawRange, limits: &Limits) -> Result<OsvRange, Error> {
    check_count(id, "range events", raw.events.len(), limits.max_events)?;
    let kind = match raw.kind.as_str() {
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "SEMVER" => RangeKind::Semver,
        "GIT" => RangeKind::Git,
        _ => RangeKind::Other(raw.kind),
    };
    let events = raw
        .events
        .into_iter()
        .map(
            |e| match (e.introduced, e.fixed, e.last_affected, e.limit) {
                (Some(v), None, None, None) => Ok(OsvEvent::Introduced(v)),
                (None, Some(v), None, None) => Ok(OsvEvent::Fixed(v)),
                (None, None, Some(v), None) => Ok(OsvEvent::LastAffected(v)),
                (None, None, None, Some(v)) => Ok(OsvEvent::Limit(v)),
                _ => Err(Error::BadEvent { id: id.to_owned() }),
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OsvRange { kind, events })
}

fn check_count(id: &str, item: &'static str, count: usize, max: usize) -> Result<(), Error> {
    if count > max {
        return Err(Error::TooMany {
            id: id.to_owned(),
            item,
            count,
            max,
        });
    }
    Ok(())
}

/// The `id` of a record that failed, read by a pass that skips everything else (serde's
/// ignored values are not kept), truncated so a hostile id cannot fill an error message.
fn id_of(input: &[u8]) -> Option<String> {
    let only: IdOnly = serde_json::from_slice(input).ok()?;
    only.id.map(|id| id.chars().take(128).collect())
}
