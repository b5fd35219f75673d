//! Secret rules compiled for speed: one Aho-Corasick pass finds every rule's keywords, and a
//! rule's regex runs only over files holding one of them (Trivy's scheme). Most files hold
//! no keyword at all and cost one linear pass.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use globset::GlobSet;
use regex::bytes::{Regex, RegexBuilder};

use crate::allow::{build_globs, REGEX_SIZE_LIMIT};
use crate::rules_file::RuleSpec;
use crate::{Category, Error, RuleInfo};

/// A compiled `[[rule]]`.
#[derive(Debug)]
pub(crate) struct SecretRule {
    pub(crate) info: RuleInfo,
    regex: Regex,
    /// Index of the capture group named `secret`, when the regex has one.
    secret_group: Option<usize>,
    pub(crate) scan_binary: bool,
    paths: GlobSet,
    exclude_paths: GlobSet,
}

/// One match of a rule, before the allow-list and redaction.
pub(crate) struct SecretMatch<'d> {
    pub(crate) rule: usize,
    pub(crate) start: usize,
    pub(crate) value: &'d [u8],
}

impl SecretRule {
    pub(crate) fn compile(origin: &str, spec: &RuleSpec) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidRule {
            file: origin.to_owned(),
            rule: spec.id.clone(),
            reason,
        };
        let id_ok = !spec.id.is_empty()
            && spec.id.len() <= 128
            && spec
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(invalid(
                "id must be 1-128 of lowercase letters, digits and `-`".to_owned(),
            ));
        }
        if spec.keywords.iter().any(String::is_empty) {
            return Err(invalid("a keyword is empty".to_owned()));
        }
        let regex = RegexBuilder::new(&spec.regex)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| invalid(format!("bad regex: {e}")))?;
        let secret_group = regex
            .capture_names()
            .position(|name| name == Some("secret"));
        Ok(Self {
            info: RuleInfo {
                id: spec.id.clone(),
                category: Category::Secret,
                severity: spec.severity,
                title: spec.title.clone(),
                origin: origin.to_owned(),
            },
            regex,
            secret_group,
            scan_binary: spec.scan_binary,
            paths: build_globs(&spec.paths).map_err(invalid)?,
            exclude_paths: build_globs(&spec.exclude_paths).map_err(invalid)?,
        })
    }

    fn applies_to(&self, path: &str) -> bool {
        (self.paths.is_empty() || self.paths.is_match(path)) && !self.exclude_paths.is_match(path)
    }

    /// Every match in `data`, stopping once `limit` were collected.
    fn find<'d>(&self, index: usize, data: &'d [u8], limit: usize, out: &mut Vec<SecretMatch<'d>>) {
        for caps in self.regex.captures_iter(data) {
            if out.len() >= limit {
                return;
            }
            let whole = caps.get(0);
            let m = match self.secret_group {
                Some(g) => caps.get(g).or(whole),
                None => whole,
            };
            if let Some(m) = m.filter(|m| !m.is_empty()) {
                out.push(SecretMatch {
                    rule: index,
                    start: m.start(),
                    value: m.as_bytes(),
                });
            }
        }
    }
}

/// Every secret rule, with the keyword automaton that decides which of them run on a file.
#[derive(Debug, Default)]
pub(crate) struct SecretEngine {
    pub(crate) rules: Vec<SecretRule>,
    /// All rules' keywords; `None` when no rule has any.
    keywords: Option<AhoCorasick>,
    /// For each keyword pattern, the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords, which run on every file.
    always: Vec<usize>,
}

impl SecretEngine {
    /// Builds the keyword automaton over `rules` (with their specs' keywords, same order).
    pub(crate) fn new(rules: Vec<(SecretRule, Vec<String>)>) -> Result<Self, Error> {
        let mut patterns: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (index, (_, keywords)) in rules.iter().enumerate() {
            if keywords.is_empty() {
                always.push(index);
            }
            for keyword in keywords {
                let lower = keyword.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == lower) {
                    Some(k) => keyword_rules[k].push(index),
                    None => {
                        patterns.push(lower);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .map_err(|e| Error::Config(format!("secret rule keywords: {e}")))?;
            Some(ac)
        };
        Ok(Self {
            rules: rules.into_iter().map(|(rule, _)| rule).collect(),
            keywords,
            keyword_rules,
            always,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Which rules should run on `data`: those with a keyword present, plus keyword-less ones.
    fn triggered(&self, data: &[u8]) -> Vec<bool> {
        let mut run = vec![false; self.rules.len()];
        for &i in &self.always {
            run[i] = true;
        }
        let Some(ac) = &self.keywords else {
            return run;
        };
        // Overlapping, so that a keyword inside another (`aws_secret` in
        // `aws_secret_access_key`) is still seen; stop once every pattern was seen.
        let mut seen = vec![false; self.keyword_rules.len()];
        let mut unseen = seen.len();
        for m in ac.find_overlapping_iter(data) {
            let k = m.pattern().as_usize();
            if !seen[k] {
                seen[k] = true;
                unseen -= 1;
                for &r in &self.keyword_rules[k] {
                    run[r] = true;
                }
                if unseen == 0 {
                    break;
                }
            }
        }
        run
    }

    /// Every match of every applicable rule, at most `limit` of them.
    pub(crate) fn find<'d>(
        &self,
        path: &str,
        data: &'d [u8],
        binary: bool,
        limit: usize,
    ) -> Vec<SecretMatch<'d>> {
        let mut out = Vec::new();
        let candidates = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| (!binary || r.scan_binary) && r.applies_to(path));
        if candidates.clone().next().is_none() {
            return out;
        }
        let run = self.triggered(data);
        for (index, rule) in candidates {
            if run[index] {
                rule.find(index, data, limit, &mut out);
            }
        }
        out
    }
}

/// Cheap binary test, as git and ripgrep do: a NUL byte in the first 8 KiB.
pub(crate) fn looks_binary(data: &[u8]) -> bool {
    data[..data.len().min(8192)].contains(&0)
}

/// The built-in rules (documented examples of the format, too).
pub(crate) const BUILTIN_RULES: &str = include_str!("../rules/secrets.toml");

/// Lazily built index of line starts, so that many findings in a big file cost one pass.
#[derive(Default)]
pub(crate) struct LineIndex {
    newlines: Option<Vec<usize>>,
}

impl LineIndex {
    /// 1-based line of byte `offset` in `data`.
    pub(crate) fn line_of(&mut self, data: &[u8], offset: usize) -> u64 {
        let newlines = self.newlines.get_or_insert_with(|| {
            data.iter()
                .enumerate()
                .filter_map(|(i, &b)| (b == b'\n').then_some(i))
                .collect()
        });
        let before = newlines.partition_point(|&n| n < offset);
        u64::try_from(before).unwrap_or(u64::MAX).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let data = b"a\nbb\nccc";
        let mut idx = LineIndex::default();
        assert_eq!(idx.line_of(data, 0), 1);
        assert_eq!(idx.line_of(data, 2), 2);
        assert_eq!(idx.line_of(data, 1), 1);
        assert_eq!(idx.line_of(data, 7), 3);
    }

    #[test]
    fn nul_in_first_8k_is_binary() {
        assert!(looks_binary(b"abc\0def"));
        assert!(!looks_binary(b"plain text\n"));
        let mut late = vec![b'a'; 9000];
        late[8500] = 0;
        assert!(!looks_binary(&late));
    }
}
