//! The loaded database: advisories indexed by namespace (family and release) and package
//! name, so that matching one package is two hash lookups.

use std::collections::{BTreeSet, HashMap};

use ironroot_vercmp::VersionError;

use crate::namespace::{debian_codename_release, osv_namespace, Family, Namespace};
use crate::osv::{parse_osv, OsvEvent, OsvRecord, RangeKind, SeverityVector};
use crate::severity::Rating;
use crate::tracker::{parse_debian_tracker, TrackerIssue, TrackerStatus};
use crate::version::{EventKind, Range, Version};
use crate::{Error, Limits};

/// Most distinct unsupported ecosystem names remembered in [`LoadStats`] (the count is exact).
const MAX_REMEMBERED_ECOSYSTEMS: usize = 64;

/// Which feed an advisory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FeedSource {
    /// An OSV record.
    Osv,
    /// The Debian security tracker's JSON.
    DebianTracker,
}

/// What loading saw, for the operator: nothing is dropped without being counted here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadStats {
    /// OSV records indexed.
    pub osv_records: usize,
    /// OSV records skipped because they are withdrawn.
    pub withdrawn_skipped: usize,
    /// Tracker issues read.
    pub tracker_issues: usize,
    /// Index entries (one per advisory, namespace and package).
    pub entries: usize,
    /// `affected[]` entries of ecosystems kept but not matched (Ubuntu, PyPI...).
    pub unsupported_ecosystem_entries: usize,
    /// Their ecosystem names (the first 64 distinct).
    pub unsupported_ecosystems: BTreeSet<String>,
    /// SEMVER, GIT and unknown ranges on distribution packages, ignored.
    pub ignored_ranges: usize,
    /// CVSS vectors that did not parse; the next rating source was used.
    pub invalid_cvss_vectors: usize,
    /// Entries with a version that does not parse: matching reports them as problems.
    pub entries_with_bad_versions: usize,
    /// Tracker release entries for releases not mapped (sid, experimental, old releases).
    pub tracker_releases_skipped: usize,
    /// Tracker release entries marked never affected (`fixed_version` `0`).
    pub tracker_not_affected: usize,
}

/// What [`Database::add_osv`] did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Added {
    /// Indexed (possibly with no matchable entry; see [`LoadStats`]).
    Indexed,
    /// Withdrawn, skipped.
    Withdrawn,
}

pub(crate) struct Advisory {
    pub(crate) id: String,
    /// The CVE this advisory is about, the key findings are merged on.
    pub(crate) cve: Option<String>,
    pub(crate) aliases: Vec<String>,
    pub(crate) source: FeedSource,
}

pub(crate) enum Status {
    Open,
    Undetermined,
    Resolved { text: String, version: Version },
}

pub(crate) enum EntryKind {
    Osv {
        ranges: Vec<Range>,
        versions: Vec<String>,
    },
    Tracker(Status),
}

pub(crate) struct Entry {
    pub(crate) advisory: usize,
    pub(crate) rating: Rating,
    pub(crate) kind: EntryKind,
    /// A feed version that did not parse: the entry cannot say "not affected".
    pub(crate) broken: Option<VersionError>,
}

/// An offline vulnerability database. Build it from OSV records and tracker documents, then
/// match inventories with [`Database::match_inventory`].
#[derive(Default)]
pub struct Database {
    limits: Limits,
    pub(crate) advisories: Vec<Advisory>,
    pub(crate) index: HashMap<Namespace, HashMap<String, Vec<Entry>>>,
    stats: LoadStats,
}

impl Database {
    /// An empty database with default limits.
    pub fn new() -> Database {
        Database::default()
    }

    /// An empty database with the given limits.
    pub fn with_limits(limits: Limits) -> Database {
        Database {
            limits,
            ..Database::default()
        }
    }

    /// What loading saw.
    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// Parses one OSV record and adds it. A refused record adds nothing.
    pub fn add_osv_json(&mut self, input: &[u8]) -> Result<Added, Error> {
        let record = parse_osv(input, &self.limits)?;
        Ok(self.add_osv(record))
    }

    /// Parses a Debian tracker document and adds every issue; returns how many were read.
    pub fn add_debian_tracker_json(&mut self, input: &[u8]) -> Result<usize, Error> {
        let issues = parse_debian_tracker(input, &self.limits)?;
        let count = issues.len();
        self.add_debian_tracker(issues);
        Ok(count)
    }

    /// Adds a parsed OSV record (withdrawn records are counted and skipped).
    pub fn add_osv(&mut self, record: OsvRecord) -> Added {
        if record.withdrawn.is_some() {
            self.stats.withdrawn_skipped += 1;
            return Added::Withdrawn;
        }
        self.stats.osv_records += 1;
        let advisory = self.push_advisory(record.id, record.aliases, FeedSource::Osv);
        for affected in record.affected {
            let Some(ns) = osv_namespace(&affected.ecosystem) else {
                self.note_unsupported(affected.ecosystem);
                continue;
            };
            let vectors = if affected.severity.is_empty() {
                &record.severity
            } else {
                &affected.severity
            };
            let rating = self.rating(vectors, affected.distribution_rating.as_deref());
            let ecosystem = ns.family.ecosystem();
            let mut ranges = Vec::new();
            let mut broken = None;
            for range in affected.ranges {
                if range.kind != RangeKind::Ecosystem {
                    self.stats.ignored_ranges += 1;
                    continue;
                }
                let events = range.events.into_iter().map(event_parts).collect();
                match Range::new(ecosystem, events) {
                    Ok(r) => ranges.push(r),
                    Err(e) => broken = Some(e),
                }
            }
            let kind = EntryKind::Osv {
                ranges,
                versions: affected.versions,
            };
            self.insert(ns, affected.name, advisory, rating, kind, broken);
        }
        Added::Indexed
    }

    /// Adds parsed tracker issues, under the Debian release each codename maps to.
    pub fn add_debian_tracker(&mut self, issues: Vec<TrackerIssue>) {
        for issue in issues {
            self.stats.tracker_issues += 1;
            let advisory = self.push_advisory(issue.id, Vec::new(), FeedSource::DebianTracker);
            for release in issue.releases {
                let Some(number) = debian_codename_release(&release.codename) else {
                    self.stats.tracker_releases_skipped += 1;
                    continue;
                };
                let ns = Namespace {
                    family: Family::Debian,
                    release: number.to_owned(),
                };
                let rating = Rating::from_distribution(release.urgency.as_deref());
                let (status, broken) = match release.status {
                    TrackerStatus::NotAffected => {
                        self.stats.tracker_not_affected += 1;
                        continue;
                    }
                    TrackerStatus::Open => (Status::Open, None),
                    TrackerStatus::Undetermined => (Status::Undetermined, None),
                    TrackerStatus::Resolved { fixed_version } => {
                        match Version::parse(ns.family.ecosystem(), &fixed_version) {
                            Ok(version) => (
                                Status::Resolved {
                                    text: fixed_version,
                                    version,
                                },
                                None,
                            ),
                            // Unparsable fix: treat as open so it is never "not affected".
                            Err(e) => (Status::Open, Some(e)),
                        }
                    }
                };
                let name = issue.package.clone();
                self.insert(
                    ns,
                    name,
                    advisory,
                    rating,
                    EntryKind::Tracker(status),
                    broken,
                );
            }
        }
    }

    fn push_advisory(&mut self, id: String, aliases: Vec<String>, source: FeedSource) -> usize {
        let cve = cve_key(&id, &aliases);
        self.advisories.push(Advisory {
            id,
            cve,
            aliases,
            source,
        });
        self.advisories.len() - 1
    }

    fn insert(
        &mut self,
        ns: Namespace,
        name: String,
        advisory: usize,
        rating: Rating,
        kind: EntryKind,
        broken: Option<VersionError>,
    ) {
        if broken.is_some() {
            self.stats.entries_with_bad_versions += 1;
        }
        self.stats.entries += 1;
        self.index
            .entry(ns)
            .or_default()
            .entry(name)
            .or_default()
            .push(Entry {
                advisory,
                rating,
                kind,
                broken,
            });
    }

    fn note_unsupported(&mut self, ecosystem: String) {
        self.stats.unsupported_ecosystem_entries += 1;
        if self.stats.unsupported_ecosystems.len() < MAX_REMEMBERED_ECOSYSTEMS {
            self.stats
                .unsupported_ecosystems
                .insert(ecosystem.chars().take(64).collect());
        }
    }

    fn rating(&mut self, vectors: &[SeverityVector], distribution: Option<&str>) -> Rating {
        let find = |kind: &str| {
            vectors
                .iter()
                .find(|v| v.kind == kind)
                .map(|v| v.score.as_str())
        };
        let word = distribution.or_else(|| find("Ubuntu"));
        let (rating, bad) = Rating::from_parts(find("CVSS_V4"), find("CVSS_V3"), word);
        if bad {
            self.stats.invalid_cvss_vectors += 1;
        }
        rating
    }
}

fn event_parts(event: OsvEvent) -> (EventKind, String) {
    match event {
        OsvEvent::Introduced(v) => (EventKind::Introduced, v),
        OsvEvent::Fixed(v) => (EventKind::Fixed, v),
        OsvEvent::LastAffected(v) => (EventKind::LastAffected, v),
        OsvEvent::Limit(v) => (EventKind::Limit, v),
    }
}

/// The CVE an advisory is about: its id if it is one, else the first CVE alias, else the CVE
/// inside a distribution's per-CVE id (`DEBIAN-CVE-...`, `ALPINE-CVE-...`).
pub(crate) fn cve_key(id: &str, aliases: &[String]) -> Option<String> {
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .find(|s| s.starts_with("CVE-"))
        .or_else(|| id.find("-CVE-").and_then(|at| id.get(at + 1..)))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_keys() {
        assert_eq!(cve_key("CVE-2023-1", &[]), Some("CVE-2023-1".into()));
        assert_eq!(
            cve_key("DSA-5514-1", &["CVE-2023-4911".into()]),
            Some("CVE-2023-4911".into())
        );
        assert_eq!(
            cve_key("DEBIAN-CVE-2023-45853", &[]),
            Some("CVE-2023-45853".into())
        );
        assert_eq!(cve_key("TEMP-0841856-B18BAF", &[]), None);
    }
}
