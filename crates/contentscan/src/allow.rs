//! The compiled allow-list for secret findings.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};

use crate::rules_file::AllowEntry;
use crate::Error;

/// Bounds the memory a user's regex may compile to.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One compiled entry; an empty condition matches anything.
#[derive(Debug)]
struct AllowRule {
    rules: Vec<String>,
    paths: GlobSet,
    path_regexes: Vec<Regex>,
    values: Vec<Regex>,
}

impl AllowRule {
    fn path_matches(&self, path: &str) -> bool {
        (self.paths.is_empty() && self.path_regexes.is_empty())
            || self.paths.is_match(path)
            || self.path_regexes.iter().any(|r| r.is_match(path))
    }

    fn rule_matches(&self, rule_id: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule_id)
    }
}

/// Allow-list entries from every rules file and the configuration.
#[derive(Debug, Default)]
pub(crate) struct AllowList {
    entries: Vec<AllowRule>,
}

impl AllowList {
    /// Compiles `entry`. `known_rule` says whether a rule id exists: naming an unknown rule
    /// is an error, since it is most likely a typo that would leave the finding in place.
    pub(crate) fn add(
        &mut self,
        file: &str,
        index: usize,
        entry: &AllowEntry,
        known_rule: impl Fn(&str) -> bool,
    ) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidAllow {
            file: file.to_owned(),
            index,
            reason,
        };
        if entry.rules.is_empty()
            && entry.paths.is_empty()
            && entry.path_regexes.is_empty()
            && entry.values.is_empty()
        {
            return Err(invalid(
                "gives none of rules, paths, path_regexes, values: it would allow everything"
                    .to_owned(),
            ));
        }
        if let Some(unknown) = entry.rules.iter().find(|r| !known_rule(r)) {
            return Err(invalid(format!("names unknown secret rule `{unknown}`")));
        }
        let paths = build_globs(&entry.paths).map_err(invalid)?;
        let path_regexes = build_regexes(&entry.path_regexes).map_err(invalid)?;
        let values = build_regexes(&entry.values).map_err(invalid)?;
        self.entries.push(AllowRule {
            rules: entry.rules.clone(),
            paths,
            path_regexes,
            values,
        });
        Ok(())
    }

    /// Whether a secret finding of `rule_id` at `path` (normalized) with `value` is allowed.
    pub(crate) fn allows(&self, rule_id: &str, path: &str, value: &str) -> bool {
        self.entries.iter().any(|e| {
            e.rule_matches(rule_id)
                && e.path_matches(path)
                && (e.values.is_empty() || e.values.iter().any(|r| r.is_match(value)))
        })
    }

    /// Whether every secret finding at `path` would be allowed, so its bytes are not needed.
    pub(crate) fn allows_whole_path(&self, path: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.rules.is_empty() && e.values.is_empty() && e.path_matches(path))
    }
}

/// Compiles path globs with `*` confined to one directory, as `.gitignore` users expect.
pub(crate) fn build_globs(globs: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let compiled = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad glob `{glob}`: {e}"))?;
        set.add(compiled);
    }
    set.build().map_err(|e| format!("bad globs: {e}"))
}

fn build_regexes(patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|p| {
            RegexBuilder::new(p)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| format!("bad regex `{p}`: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entry: AllowEntry) -> AllowList {
        let mut list = AllowList::default();
        let added = list.add("t", 0, &entry, |r| r == "r1" || r == "r2");
        assert!(added.is_ok(), "{added:?}");
        list
    }

    #[test]
    fn empty_entry_is_refused() {
        let mut l = AllowList::default();
        assert!(l.add("t", 0, &AllowEntry::default(), |_| true).is_err());
    }

    #[test]
    fn unknown_rule_is_refused() {
        let mut l = AllowList::default();
        let e = AllowEntry {
            rules: vec!["nope".into()],
            ..AllowEntry::default()
        };
        assert!(l.add("t", 0, &e, |r| r == "r1").is_err());
    }

    #[test]
    fn all_fields_must_match() {
        let l = list(AllowEntry {
            rules: vec!["r1".into()],
            paths: vec!["usr/share/doc/**".into()],
            values: vec!["^fake".into()],
            ..AllowEntry::default()
        });
        assert!(l.allows("r1", "usr/share/doc/a/b.txt", "fake123"));
        assert!(!l.allows("r2", "usr/share/doc/a/b.txt", "fake123"));
        assert!(!l.allows("r1", "etc/b.txt", "fake123"));
        assert!(!l.allows("r1", "usr/share/doc/a/b.txt", "real123"));
        assert!(!l.allows_whole_path("usr/share/doc/a/b.txt"));
    }

    #[test]
    fn star_stays_in_one_directory() {
        let l = list(AllowEntry {
            paths: vec!["srv/*.env".into()],
            ..AllowEntry::default()
        });
        assert!(l.allows_whole_path("srv/a.env"));
        assert!(!l.allows_whole_path("srv/x/a.env"));
    }

    #[test]
    fn path_regex_matches() {
        let l = list(AllowEntry {
            path_regexes: vec![r"(^|/)testdata/".into()],
            ..AllowEntry::default()
        });
        assert!(l.allows("r2", "go/src/x/testdata/key.pem", "v"));
        assert!(!l.allows("r2", "go/src/x/key.pem", "v"));
    }
}
