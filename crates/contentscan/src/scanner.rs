//! The scanner: configuration, rule compilation, and per-thread scanning sessions.

use std::ops::Range;
use std::time::Duration;

use crate::allow::AllowList;
use crate::finding::normalize_path;
use crate::malware::{MalwareEngine, MalwareScanner, BUILTIN_YARA};
use crate::secrets::{looks_binary, LineIndex, SecretEngine, SecretRule, BUILTIN_RULES};
use crate::{redact, rules_file, AllowEntry, Category, Error, Finding, RuleInfo, Severity};

/// A rules file or YARA source handed over as text, with the name errors and findings use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSource {
    pub name: String,
    pub text: String,
}

impl RulesSource {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// What to scan for. Start from [`Config::default`] (built-in rules, 10 MiB cap).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Use the built-in secret rules, allow-list and YARA rules (the last only in a build with
    /// the `malware` feature, the default).
    pub builtin: bool,
    /// Extra secret rules files (TOML: `[[rule]]` and `[[allow]]` tables).
    pub secret_rules: Vec<RulesSource>,
    /// Extra allow-list entries, as if from a rules file named `config`.
    pub allow: Vec<AllowEntry>,
    /// Extra YARA sources; without the `malware` feature any source is an [`Error::Yara`].
    pub yara_sources: Vec<RulesSource>,
    /// Files larger than this are not wanted; `scan` looks at no more than this many bytes.
    pub max_bytes: u64,
    /// Findings kept per file, so that a file of a million keys cannot flood a report.
    pub max_findings_per_file: usize,
    /// Time one YARA scan of one file may take before it is reported as incomplete.
    pub yara_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            builtin: true,
            secret_rules: Vec::new(),
            allow: Vec::new(),
            yara_sources: Vec::new(),
            max_bytes: 10 * 1024 * 1024,
            max_findings_per_file: 100,
            yara_timeout: Duration::from_secs(30),
        }
    }
}

/// Compiled rules; cheap to share between threads (`&Scanner` is `Send`).
#[derive(Debug)]
pub struct Scanner {
    secrets: SecretEngine,
    allow: AllowList,
    malware: Option<MalwareEngine>,
    max_bytes: u64,
    max_findings: usize,
    yara_timeout: Duration,
}

impl Scanner {
    /// Compiles every rule. Fails on any invalid rule, on duplicate rule ids, and when no
    /// rule is left at all (a scanner that finds nothing would pass every image).
    pub fn new(config: Config) -> Result<Self, Error> {
        if config.max_bytes == 0 || config.max_findings_per_file == 0 {
            return Err(Error::Config(
                "max_bytes and max_findings_per_file must be at least 1".to_owned(),
            ));
        }
        let (secrets, allow) = compile_secrets(&config)?;
        let malware = compile_malware(&config)?;
        if let Some(engine) = &malware {
            if let Some(rule) = secrets
                .rules
                .iter()
                .find(|r| engine.rule(&r.info.id).is_some())
            {
                return Err(Error::DuplicateRule {
                    id: rule.info.id.clone(),
                    first: rule.info.origin.clone(),
                    second: "a YARA source".to_owned(),
                });
            }
        }
        if secrets.is_empty() && malware.is_none() {
            return Err(Error::Config("no secret or YARA rules to run".to_owned()));
        }
        Ok(Self {
            secrets,
            allow,
            malware,
            max_bytes: config.max_bytes,
            max_findings: config.max_findings_per_file,
            yara_timeout: config.yara_timeout,
        })
    }

    /// Whether the bytes of the regular file `path` of `size` bytes are worth handing over.
    pub fn wants(&self, path: &str, size: u64) -> bool {
        if size > self.max_bytes {
            return false;
        }
        self.malware.is_some()
            || (!self.secrets.is_empty() && !self.allow.allows_whole_path(normalize_path(path)))
    }

    /// A scanning session for the calling thread. yara-x scanners hold a WebAssembly
    /// instance that is costly to make and cannot be shared, so make one per worker thread
    /// and reuse it for every file.
    pub fn session(&self) -> Session<'_> {
        Session {
            scanner: self,
            malware: self
                .malware
                .as_ref()
                .map(|engine| engine.scanner(self.yara_timeout)),
        }
    }

    /// Scans one file with a throwaway session; in a loop, reuse a [`Session`] instead.
    pub fn scan(&self, path: &str, data: &[u8]) -> Vec<Finding> {
        self.session().scan(path, data)
    }

    /// Every rule this scanner runs, secret rules first, for SARIF and listings.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let mut rules: Vec<RuleInfo> = self.secrets.rules.iter().map(|r| r.info.clone()).collect();
        if let Some(engine) = &self.malware {
            rules.extend(engine.rules());
            rules.push(incomplete_rule_info());
        }
        rules
    }
}

/// Built-in and user secret rules and allow-lists, checked for duplicate ids.
fn compile_secrets(config: &Config) -> Result<(SecretEngine, AllowList), Error> {
    let mut files = Vec::new();
    if config.builtin {
        files.push(("builtin", rules_file::parse("builtin", BUILTIN_RULES)?));
    }
    for source in &config.secret_rules {
        files.push((
            source.name.as_str(),
            rules_file::parse(&source.name, &source.text)?,
        ));
    }
    let mut rules: Vec<(SecretRule, Vec<String>)> = Vec::new();
    for (origin, file) in &files {
        for spec in &file.rule {
            if let Some((first, _)) = rules.iter().find(|(r, _)| r.info.id == spec.id) {
                return Err(Error::DuplicateRule {
                    id: spec.id.clone(),
                    first: first.info.origin.clone(),
                    second: (*origin).to_owned(),
                });
            }
            rules.push((SecretRule::compile(origin, spec)?, spec.keywords.clone()));
        }
    }
    let known = |id: &str| rules.iter().any(|(r, _)| r.info.id == id);
    let mut allow = AllowList::default();
    for (origin, file) in &files {
        for (index, entry) in file.allow.iter().enumerate() {
            allow.add(origin, index, entry, known)?;
        }
    }
    for (index, entry) in config.allow.iter().enumerate() {
        allow.add("config", index, entry, known)?;
    }
    Ok((SecretEngine::new(rules)?, allow))
}

/// A YARA source: its origin (`builtin` or the source's own name), name and text.
#[cfg_attr(not(feature = "malware"), allow(dead_code))] // without YARA only `name` is read
pub(crate) struct YaraSource<'a> {
    pub(crate) origin: &'a str,
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

/// A YARA rule that matched a file, and the byte range of its earliest string match (none
/// for a rule whose condition needs no string).
pub(crate) struct MalwareMatch<'e> {
    pub(crate) rule: &'e RuleInfo,
    pub(crate) first: Option<Range<usize>>,
}

/// The pseudo-rule reported when a YARA scan did not finish, so that a file is never taken
/// as clean only because scanning it failed.
const INCOMPLETE_RULE: &str = "malware-scan-incomplete";

fn incomplete_rule_info() -> RuleInfo {
    RuleInfo {
        id: INCOMPLETE_RULE.to_owned(),
        category: Category::Malware,
        severity: Severity::Medium,
        title: "Malware scan of this file did not finish".to_owned(),
        origin: "builtin".to_owned(),
    }
}

fn compile_malware(config: &Config) -> Result<Option<MalwareEngine>, Error> {
    let mut sources: Vec<YaraSource<'_>> = Vec::new();
    if config.builtin {
        sources.extend(BUILTIN_YARA.iter().map(|(name, text)| YaraSource {
            origin: "builtin",
            name,
            text,
        }));
    }
    sources.extend(config.yara_sources.iter().map(|s| YaraSource {
        origin: &s.name,
        name: &s.name,
        text: &s.text,
    }));
    if sources.is_empty() {
        return Ok(None);
    }
    MalwareEngine::compile(&sources).map(Some)
}

/// Scans files on one thread; see [`Scanner::session`].
pub struct Session<'s> {
    scanner: &'s Scanner,
    malware: Option<MalwareScanner<'s>>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Findings in one file, ordered by line then rule id. Looks at no more than the
    /// configured `max_bytes` of `data`.
    pub fn scan(&mut self, path: &str, data: &[u8]) -> Vec<Finding> {
        let cap = usize::try_from(self.scanner.max_bytes).unwrap_or(usize::MAX);
        let data = &data[..data.len().min(cap)];
        let path = normalize_path(path);
        let binary = looks_binary(data);
        let mut lines = LineIndex::default();
        let mut findings = self.secret_findings(path, data, binary, &mut lines);
        findings.extend(self.malware_findings(path, data, binary, &mut lines));
        findings.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.rule_id.cmp(&b.rule_id)));
        findings
    }

    fn secret_findings(
        &self,
        path: &str,
        data: &[u8],
        binary: bool,
        lines: &mut LineIndex,
    ) -> Vec<Finding> {
        let s = self.scanner;
        let mut findings = Vec::new();
        // Ask for more matches than kept, since the allow-list may drop some.
        let limit = s.max_findings.saturating_mul(4);
        for m in s.secrets.find(path, data, binary, limit) {
            if findings.len() >= s.max_findings {
                break;
            }
            let Some(rule) = s.secrets.rules.get(m.rule) else {
                continue;
            };
            let value = String::from_utf8_lossy(m.value);
            if s.allow.allows(&rule.info.id, path, &value) {
                continue;
            }
            findings.push(Finding {
                rule_id: rule.info.id.clone(),
                category: Category::Secret,
                severity: rule.info.severity,
                title: rule.info.title.clone(),
                path: path.to_owned(),
                line: (!binary).then(|| lines.line_of(data, m.start)),
                redacted: redact(&value),
            });
        }
        findings
    }

    fn malware_findings(
        &mut self,
        path: &str,
        data: &[u8],
        binary: bool,
        lines: &mut LineIndex,
    ) -> Vec<Finding> {
        let Some(malware) = self.malware.as_mut() else {
            return Vec::new();
        };
        let matches = match malware.scan(data, self.scanner.max_findings) {
            Ok(matches) => matches,
            Err(e) => {
                let info = incomplete_rule_info();
                return vec![Finding {
                    rule_id: info.id,
                    category: info.category,
                    severity: info.severity,
                    title: format!("{}: {e}", info.title),
                    path: path.to_owned(),
                    line: None,
                    redacted: String::new(),
                }];
            }
        };
        let mut findings = Vec::new();
        for m in matches {
            let first = m.first.and_then(|r| Some((r.start, data.get(r)?)));
            findings.push(Finding {
                rule_id: m.rule.id.clone(),
                category: Category::Malware,
                severity: m.rule.severity,
                title: m.rule.title.clone(),
                path: path.to_owned(),
                line: first
                    .filter(|_| !binary)
                    .map(|(start, _)| lines.line_of(data, start)),
                redacted: first
                    .map(|(_, bytes)| redact(&String::from_utf8_lossy(bytes)))
                    .unwrap_or_default(),
            });
        }
        findings
    }
}
