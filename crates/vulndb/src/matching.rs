//! Matching an inventory against the database. Every package either matches, does not
//! match, or produces a [`Problem`]; an unreadable version is never "not affected".

use ironroot_cvss::{Score, Severity};
use ironroot_pkgdb::Package;
use ironroot_vercmp::{Ecosystem, VersionError};

use crate::database::{Database, Entry, EntryKind, FeedSource, Status};
use crate::namespace::{Distro, Family, Namespace};
use crate::severity::SeverityBasis;
use crate::version::Version;

/// The package a finding or problem is about, as the inventory named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// Binary package name.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Source package, when recorded.
    pub source_name: Option<String>,
    /// Source version, when recorded apart from `version`.
    pub source_version: Option<String>,
}

/// One vulnerability affecting one installed package.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Finding {
    /// The CVE id when known, else the advisory's id (`TEMP-...`, `DSA-...`).
    pub vuln_id: String,
    /// Every other id the sources used (`DSA-5514-1`, `DEBIAN-CVE-...`), sorted.
    pub aliases: Vec<String>,
    /// The affected package.
    pub package: PackageRef,
    /// The name the advisory used: the source package for Debian, the binary or its origin
    /// for apk.
    pub matched_name: String,
    /// The first version that fixes it, if any source knows one.
    pub fixed_version: Option<String>,
    /// The severity; `None` when no source rated it (review it, do not ignore it).
    pub severity: Option<Severity>,
    /// Where the severity came from.
    pub severity_basis: SeverityBasis,
    /// The CVSS base score, when the severity came from a vector.
    pub cvss_score: Option<Score>,
    /// The distribution's own rating word, when it gave one.
    pub distribution_rating: Option<String>,
    /// Every feed that reported it, sorted.
    pub sources: Vec<FeedSource>,
}

/// Why a package (or the whole inventory) could not be fully matched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The distribution is not one this database matches; nothing was matched.
    UnsupportedDistro {
        /// os-release ID.
        id: String,
        /// os-release VERSION_ID.
        version_id: String,
    },
    /// The package's manager does not fit the distribution (an rpm on Alpine).
    EcosystemMismatch,
    /// The installed version does not parse, and advisories exist for the package.
    InstalledVersion(VersionError),
    /// A version in the advisory does not parse, and no other part of it matched.
    FeedVersion(VersionError),
}

/// One problem met while matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The package, when the problem is about one.
    pub package: Option<PackageRef>,
    /// The advisory, when the problem is about one.
    pub vuln_id: Option<String>,
    /// What went wrong.
    pub kind: ProblemKind,
}

/// Findings and problems of one inventory, in inventory order (findings of one package
/// sorted by id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchReport {
    /// The vulnerabilities found.
    pub findings: Vec<Finding>,
    /// What could not be decided.
    pub problems: Vec<Problem>,
}

/// A package as matching sees it: borrowed, so that matching copies nothing for packages
/// without findings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) source_name: Option<&'a str>,
    pub(crate) source_version: Option<&'a str>,
    pub(crate) ecosystem: Option<Ecosystem>,
}

impl<'a> Subject<'a> {
    fn from_package(p: &'a Package) -> Subject<'a> {
        let ecosystem = match p.ecosystem {
            ironroot_pkgdb::Ecosystem::Dpkg => Some(Ecosystem::Dpkg),
            ironroot_pkgdb::Ecosystem::Apk => Some(Ecosystem::Apk),
            ironroot_pkgdb::Ecosystem::Rpm => Some(Ecosystem::Rpm),
            _ => None,
        };
        Subject {
            name: &p.name,
            version: &p.version,
            source_name: p.source_name.as_deref(),
            source_version: p.source_version.as_deref(),
            ecosystem,
        }
    }

    fn to_ref(self) -> PackageRef {
        PackageRef {
            name: self.name.to_owned(),
            version: self.version.to_owned(),
            source_name: self.source_name.map(str::to_owned),
            source_version: self.source_version.map(str::to_owned),
        }
    }

    /// The names advisories may use for it, and the version to compare, per family.
    fn keys(self, family: Family) -> ([Option<&'a str>; 2], &'a str) {
        match family {
            // Debian advisories (tracker and OSV) name source packages and source versions.
            Family::Debian => (
                [Some(self.source_name.unwrap_or(self.name)), None],
                self.source_version.unwrap_or(self.version),
            ),
            // Alpine's secdb names the origin (aport); binary name first, origin second.
            Family::Alpine => (
                [
                    Some(self.name),
                    self.source_name.filter(|origin| *origin != self.name),
                ],
                self.version,
            ),
            _ => ([Some(self.name), None], self.version),
        }
    }
}

enum Verdict<'e> {
    Affected { fixed: Option<&'e str> },
    NotAffected,
    Unknown(&'e VersionError),
}

impl Database {
    /// Matches installed packages of an image of `distro` against the database.
    pub fn match_inventory(&self, distro: &Distro, packages: &[Package]) -> MatchReport {
        self.match_subjects(distro, packages.iter().map(Subject::from_package))
    }

    pub(crate) fn match_subjects<'a>(
        &self,
        distro: &Distro,
        subjects: impl Iterator<Item = Subject<'a>>,
    ) -> MatchReport {
        let mut report = MatchReport::default();
        let Some(ns) = distro.namespace() else {
            report.problems.push(Problem {
                package: None,
                vuln_id: None,
                kind: ProblemKind::UnsupportedDistro {
                    id: distro.id.clone(),
                    version_id: distro.version_id.clone(),
                },
            });
            return report;
        };
        let by_name = self.index.get(&ns);
        for subject in subjects {
            self.match_one(&ns, by_name, subject, &mut report);
        }
        report
    }

    fn match_one(
        &self,
        ns: &Namespace,
        by_name: Option<&std::collections::HashMap<String, Vec<Entry>>>,
        subject: Subject<'_>,
        report: &mut MatchReport,
    ) {
        let ecosystem = ns.family.ecosystem();
        if subject.ecosystem != Some(ecosystem) {
            report.problems.push(Problem {
                package: Some(subject.to_ref()),
                vuln_id: None,
                kind: ProblemKind::EcosystemMismatch,
            });
            return;
        }
        let Some(by_name) = by_name else { return };
        let (names, version_text) = subject.keys(ns.family);
        let mut installed: Option<Version> = None;
        let mut found: Vec<Finding> = Vec::new();
        for name in names.into_iter().flatten() {
            let Some(entries) = by_name.get(name) else {
                continue;
            };
            let version = match &installed {
                Some(v) => v,
                None => match Version::parse(ecosystem, version_text) {
                    Ok(v) => installed.insert(v),
                    Err(e) => {
                        report.problems.push(Problem {
                            package: Some(subject.to_ref()),
                            vuln_id: None,
                            kind: ProblemKind::InstalledVersion(e),
                        });
                        return;
                    }
                },
            };
            for entry in entries {
                match evaluate(entry, version, version_text) {
                    Verdict::NotAffected => {}
                    Verdict::Affected { fixed } => {
                        self.record(&mut found, subject, name, entry, fixed);
                    }
                    Verdict::Unknown(e) => report.problems.push(Problem {
                        package: Some(subject.to_ref()),
                        vuln_id: Some(self.vuln_id(entry).to_owned()),
                        kind: ProblemKind::FeedVersion(e.clone()),
                    }),
                }
            }
        }
        found.sort_by(|a, b| a.vuln_id.cmp(&b.vuln_id));
        report.findings.extend(found);
    }

    fn vuln_id(&self, entry: &Entry) -> &str {
        self.advisories
            .get(entry.advisory)
            .map(|a| a.cve.as_deref().unwrap_or(&a.id))
            .unwrap_or("")
    }

    /// Adds a finding, or merges it into the one for the same vulnerability: the sources and
    /// ids are united, a fix version fills a missing one, and the better-founded rating wins.
    fn record(
        &self,
        found: &mut Vec<Finding>,
        subject: Subject<'_>,
        name: &str,
        entry: &Entry,
        fixed: Option<&str>,
    ) {
        let Some(advisory) = self.advisories.get(entry.advisory) else {
            return;
        };
        let vuln_id = advisory.cve.as_deref().unwrap_or(&advisory.id);
        let ids = std::iter::once(&advisory.id).chain(&advisory.aliases);
        let rating = &entry.rating;
        if let Some(f) = found.iter_mut().find(|f| f.vuln_id == vuln_id) {
            for id in ids {
                if id != vuln_id && !f.aliases.contains(id) {
                    f.aliases.push(id.clone());
                }
            }
            f.aliases.sort();
            if !f.sources.contains(&advisory.source) {
                f.sources.push(advisory.source);
                f.sources.sort();
            }
            if f.fixed_version.is_none() {
                f.fixed_version = fixed.map(str::to_owned);
            }
            if rating.basis > f.severity_basis {
                f.severity = rating.severity;
                f.severity_basis = rating.basis;
                f.cvss_score = rating.cvss_score;
            }
            if f.distribution_rating.is_none() {
                f.distribution_rating = rating.distribution_rating.clone();
            }
            return;
        }
        let mut aliases: Vec<String> = ids.filter(|id| *id != vuln_id).cloned().collect();
        aliases.sort();
        aliases.dedup();
        found.push(Finding {
            vuln_id: vuln_id.to_owned(),
            aliases,
            package: subject.to_ref(),
            matched_name: name.to_owned(),
            fixed_version: fixed.map(str::to_owned),
            severity: rating.severity,
            severity_basis: rating.basis,
            cvss_score: rating.cvss_score,
            distribution_rating: rating.distribution_rating.clone(),
            sources: vec![advisory.source],
        });
    }
}

fn evaluate<'e>(entry: &'e Entry, version: &Version, text: &str) -> Verdict<'e> {
    let verdict = match &entry.kind {
        EntryKind::Tracker(Status::Open | Status::Undetermined) => {
            Verdict::Affected { fixed: None }
        }
        EntryKind::Tracker(Status::Resolved { text, version: fix }) => {
            if version.cmp(fix).is_lt() {
                Verdict::Affected { fixed: Some(text) }
            } else {
                Verdict::NotAffected
            }
        }
        EntryKind::Osv { ranges, versions } => {
            let in_range = ranges.iter().find_map(|r| r.evaluate(version));
            match in_range {
                Some(fixed) => Verdict::Affected { fixed },
                None if versions.iter().any(|v| v == text) => {
                    // Listed exactly; offer the first fix any range names above it.
                    let fixed = ranges.iter().find_map(|r| r.next_fix(version));
                    Verdict::Affected { fixed }
                }
                None => Verdict::NotAffected,
            }
        }
    };
    match (verdict, &entry.broken) {
        (Verdict::NotAffected, Some(e)) => Verdict::Unknown(e),
        (v, _) => v,
    }
}
