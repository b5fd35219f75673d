//! The secret rules file format (TOML), shared by the built-in rules and the user's.
//! The format is specified in `docs/rules-format.md` (also the crate docs).

use serde::{Deserialize, Serialize};

use crate::{Error, Severity};

/// The largest rules file accepted; far above any real one, it bounds parser work.
pub(crate) const MAX_RULES_FILE_BYTES: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    #[serde(default)]
    pub(crate) rule: Vec<RuleSpec>,
    #[serde(default)]
    pub(crate) allow: Vec<AllowEntry>,
}

/// One `[[rule]]` as written; compiled by `secrets::SecretRule::compile`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    pub(crate) id: String,
    pub(crate) title: String,
    #[serde(deserialize_with = "crate::finding::deserialize_rule_severity")]
    pub(crate) severity: Severity,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    pub(crate) regex: String,
    #[serde(default)]
    pub(crate) scan_binary: bool,
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    #[serde(default)]
    pub(crate) exclude_paths: Vec<String>,
}

/// One allow-list entry: a secret finding is suppressed when every field given matches.
/// An entry must give at least one field (an empty one would allow everything).
/// Malware findings are never allow-listed: a path allow-list must not become a hiding place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Why this is allowed; shown to nobody, kept for the reader of the file.
    #[serde(default)]
    pub description: String,
    /// Rule ids this entry applies to; empty means every secret rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Path globs (`*` stays within a directory, `**` crosses them), matched against the
    /// path without its leading `/`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes on the same path, for what globs cannot say.
    #[serde(default)]
    pub path_regexes: Vec<String>,
    /// Regexes on the matched secret (unanchored unless written with `^`/`$`).
    #[serde(default)]
    pub values: Vec<String>,
}

/// Parses a rules file, refusing unknown fields (a typo must not silently drop a rule).
pub(crate) fn parse(file: &str, text: &str) -> Result<RulesFile, Error> {
    if text.len() > MAX_RULES_FILE_BYTES {
        return Err(Error::RulesSyntax {
            file: file.to_owned(),
            message: format!("larger than {MAX_RULES_FILE_BYTES} bytes"),
        });
    }
    toml::from_str(text).map_err(|e| Error::RulesSyntax {
        file: file.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_an_error() {
        let text = "[[rule]]\nid='a'\ntitle='t'\nseverity='low'\nregex='x'\nkeyword=['x']\n";
        let err = parse("mine.toml", text).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("mine.toml") && e.contains("keyword")));
    }

    #[test]
    fn unknown_severity_is_an_error() {
        let text = "[[rule]]\nid='a'\ntitle='t'\nseverity='severe'\nregex='x'\n";
        let err = parse("mine.toml", text).err().map(|e| e.to_string());
        let want = "unknown variant `severe`, expected one of `info`, `low`, `medium`, `high`, \
                    `critical`";
        assert!(err.as_deref().is_some_and(|e| e.contains(want)), "{err:?}");
    }

    #[test]
    fn rules_cannot_rate_their_findings_unknown() {
        let text = "[[rule]]\nid='a'\ntitle='t'\nseverity='unknown'\nregex='x'\n";
        assert!(parse("mine.toml", text).is_err());
        let text = "[[rule]]\nid='a'\ntitle='t'\nseverity='critical'\nregex='x'\n";
        let file = parse("mine.toml", text).ok();
        assert!(file.is_some_and(|f| f.rule[0].severity == Severity::Critical));
    }

    #[test]
    fn empty_file_parses_to_nothing() {
        let file = parse("empty.toml", "").ok();
        assert!(file.is_some_and(|f| f.rule.is_empty() && f.allow.is_empty()));
    }
}
