//! Alpine package versions, `digits{.digits}[letter]{_suffix[digits]}[~hash][-rdigits]`,
//! ordered as current apk-tools orders them (the token comparison of apk-tools 2.12 and
//! later, including 3.x; the `~hash` commit token is 3.x's).
//!
//! apk reads a version as a stream of tokens, each with a kind: the first number, a
//! `.`-number, a letter, a `_`-suffix, a suffix number, a `~` commit hash, the `-r`
//! revision, the end. Two versions are compared token by token while kinds agree; a
//! differing value decides: numbers by value, except that a `.`-number where either side
//! has a leading zero compares as a string (`1.2.07 < 1.2.12`, `8.2.0015 < 8.2.002`, as in
//! Gentoo); letters by byte; suffixes in the order `alpha < beta < pre < rc < (none) < cvs <
//! svn < git < hg < p`; hashes as strings. When one version moves on to a different kind of
//! token, a pre-release suffix (`_alpha`, `_beta`, `_pre`, `_rc`) makes it older; otherwise
//! the version whose token comes later in that kind list is older, so
//! `1.0_rc1 < 1.0 < 1.0-r1 < 1.0_p1 < 1.0a < 1.0.1`.
//!
//! Strings apk-tools 2 would still order but that do not follow the format (`1.0bc`,
//! `1..2`, `1.0-r`, an unknown suffix) are errors here, as they are for apk-tools 3.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, digit_run};
use crate::error::{ApkSyntax, VersionError};

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A valid apk version. Equality is the ordering's (`1.0-r00 == 1.0-r0`, `06 == 6`).
#[derive(Debug, Clone)]
pub struct ApkVersion {
    text: String,
    tokens: Vec<Token>,
}

/// Token kinds in apk's order; a later kind makes the version older when versions diverge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    FirstNumber,
    DotNumber,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// Digits, compared by value unless a `.`-number starts with a zero.
    Digits(Vec<u8>),
    /// A letter's byte, or a suffix's rank (pre-releases negative).
    Rank(i64),
    /// A commit hash, compared as a string.
    Hash(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    value: Value,
}

impl Token {
    /// Compares two tokens of the same kind.
    fn cmp_same_kind(&self, other: &Token) -> Ordering {
        match (&self.value, &other.value) {
            (Value::Digits(a), Value::Digits(b)) => {
                let leading_zero = a.first() == Some(&b'0') || b.first() == Some(&b'0');
                if self.kind == Kind::DotNumber && leading_zero {
                    a.cmp(b)
                } else {
                    cmp_digits(a, b)
                }
            }
            (Value::Rank(a), Value::Rank(b)) => a.cmp(b),
            (Value::Hash(a), Value::Hash(b)) => a.cmp(b),
            // Same kind, same value shape: the tokenizer never mixes them.
            (a, b) => value_shape(a).cmp(&value_shape(b)),
        }
    }
}

fn value_shape(v: &Value) -> u8 {
    match v {
        Value::Digits(_) => 0,
        Value::Rank(_) => 1,
        Value::Hash(_) => 2,
    }
}

impl ApkVersion {
    /// Parses and checks a version string.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let tokens = tokenize(input).map_err(|reason| VersionError::apk(input, reason))?;
        Ok(ApkVersion {
            text: input.to_owned(),
            tokens,
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// apk's fuzzy comparison (the `~` of a dependency such as `busybox~1.36`): as the
/// ordering, except that `version` equals `prefix` once all of `prefix`'s tokens have
/// matched, whatever follows (`3.6.9_post1 ~ 3.6`, `3.6_pre1 ~ 3.6`, but `3.8 < 3.8.1`).
/// Like apk, it reads only as far as it must: a malformed tail that the comparison never
/// reaches does not matter (`3.6.9_post1 !~ 3.8` though `_post` is no apk suffix); one it
/// reaches is an error.
pub fn fuzzy_cmp(version: &str, prefix: &str) -> Result<Ordering, VersionError> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ea = tokenize_into(version, &mut a).err();
    let eb = tokenize_into(prefix, &mut b).err();
    let side = |i: usize| Side {
        tokens: if i == 0 { &a } else { &b },
        broken: if i == 0 { ea.is_some() } else { eb.is_some() },
    };
    compare(&side(0), &side(1), true).ok_or_else(|| match (ea.clone(), eb.clone()) {
        (Some(reason), _) => VersionError::apk(version, reason),
        (None, Some(reason)) => VersionError::apk(prefix, reason),
        // compare() gives None only when a side is broken.
        (None, None) => VersionError::apk(version, ApkSyntax::Empty),
    })
}

/// One side of a comparison: its tokens, and whether a malformed part follows them.
struct Side<'a> {
    tokens: &'a [Token],
    broken: bool,
}

impl Side<'_> {
    /// The kind at `i`; `None` when that is where the malformed part starts.
    fn kind_at(&self, i: usize) -> Option<Kind> {
        match self.tokens.get(i) {
            Some(t) => Some(t.kind),
            None if self.broken => None,
            None => Some(Kind::End),
        }
    }

    fn is_pre_release_at(&self, i: usize) -> bool {
        self.tokens
            .get(i)
            .is_some_and(|t| t.kind == Kind::Suffix && matches!(t.value, Value::Rank(r) if r < 0))
    }
}

/// Token by token while kinds agree; `None` if the answer lies in a malformed part.
fn compare(a: &Side<'_>, b: &Side<'_>, fuzzy: bool) -> Option<Ordering> {
    let mut i = 0;
    loop {
        // Both start with a first number (or are broken there), so kinds agree at 0.
        let (Some(ta), Some(tb)) = (a.tokens.get(i), b.tokens.get(i)) else {
            return None;
        };
        let ord = ta.cmp_same_kind(tb);
        if ord != Ordering::Equal {
            return Some(ord);
        }
        i += 1;
        let kb = b.kind_at(i)?;
        if fuzzy && kb == Kind::End {
            return Some(Ordering::Equal);
        }
        let ka = a.kind_at(i)?;
        if ka == Kind::End && kb == Kind::End {
            return Some(Ordering::Equal);
        }
        if ka != kb {
            if a.is_pre_release_at(i) {
                return Some(Ordering::Less);
            }
            if b.is_pre_release_at(i) {
                return Some(Ordering::Greater);
            }
            return Some(kb.cmp(&ka));
        }
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (
            Side {
                tokens: &self.tokens,
                broken: false,
            },
            Side {
                tokens: &other.tokens,
                broken: false,
            },
        );
        // Valid versions always compare (None needs a broken side).
        compare(&a, &b, false).unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

fn tokenize(input: &str) -> Result<Vec<Token>, ApkSyntax> {
    let mut tokens = Vec::new();
    tokenize_into(input, &mut tokens)?;
    Ok(tokens)
}

/// Tokenizes `input` into `tokens`, stopping at the first error: the tokens before it
/// are left in `tokens` (fuzzy matching, like apk's, may decide before reaching it).
fn tokenize_into(input: &str, tokens: &mut Vec<Token>) -> Result<(), ApkSyntax> {
    if input.is_empty() {
        return Err(ApkSyntax::Empty);
    }
    if input.len() > crate::MAX_VERSION_LEN {
        return Err(ApkSyntax::TooLong);
    }
    let s = input.as_bytes();
    let first = digit_run(s);
    if first == 0 {
        return Err(ApkSyntax::NotStartingWithDigit);
    }
    tokens.push(digits(Kind::FirstNumber, &s[..first]));
    let mut at = first;
    while s.get(at) == Some(&b'.') {
        at += 1;
        let n = digit_run(&s[at..]);
        if n == 0 {
            return Err(ApkSyntax::EmptyNumber(at));
        }
        tokens.push(digits(Kind::DotNumber, &s[at..at + n]));
        at += n;
    }
    if let Some(&c) = s.get(at).filter(|c| c.is_ascii_lowercase()) {
        tokens.push(Token {
            kind: Kind::Letter,
            value: Value::Rank(i64::from(c)),
        });
        at += 1;
    }
    while s.get(at) == Some(&b'_') {
        at += 1;
        let (rank, len) = suffix(&s[at..]).ok_or(ApkSyntax::UnknownSuffix(at))?;
        tokens.push(Token {
            kind: Kind::Suffix,
            value: Value::Rank(rank),
        });
        at += len;
        let n = digit_run(&s[at..]);
        if n > 0 {
            tokens.push(digits(Kind::SuffixNumber, &s[at..at + n]));
            at += n;
        }
    }
    if s.get(at) == Some(&b'~') {
        at += 1;
        let n = s[at..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if n == 0 {
            return Err(ApkSyntax::EmptyHash);
        }
        tokens.push(Token {
            kind: Kind::CommitHash,
            value: Value::Hash(s[at..at + n].to_vec()),
        });
        at += n;
    }
    if s[at..].starts_with(b"-r") {
        at += 2;
        let n = digit_run(&s[at..]);
        if n == 0 {
            return Err(ApkSyntax::EmptyRevision);
        }
        tokens.push(digits(Kind::Revision, &s[at..at + n]));
        at += n;
    }
    match input[at..].chars().next() {
        None => Ok(()),
        Some(c) => Err(ApkSyntax::Unexpected(at, c)),
    }
}

/// Digits keep their leading zeros: a `.`-number needs them for the string comparison.
fn digits(kind: Kind, digits: &[u8]) -> Token {
    Token {
        kind,
        value: Value::Digits(digits.to_vec()),
    }
}

/// The rank of the suffix name at the start of `s` (pre-releases negative) and its length.
fn suffix(s: &[u8]) -> Option<(i64, usize)> {
    let name_len = s.iter().take_while(|c| c.is_ascii_lowercase()).count();
    let name = &s[..name_len];
    let rank = |list: &[&str]| list.iter().position(|n| n.as_bytes() == name);
    let pre = PRE_SUFFIXES.len() as i64;
    match (rank(&PRE_SUFFIXES), rank(&POST_SUFFIXES)) {
        (Some(r), _) => Some((r as i64 - pre, name_len)),
        (None, Some(r)) => Some((r as i64, name_len)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> ApkVersion {
        ApkVersion::parse(s).unwrap()
    }

    fn reason(s: &str) -> ApkSyntax {
        match ApkVersion::parse(s).unwrap_err() {
            VersionError::Apk { reason, .. } => reason,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn kinds_order_when_versions_diverge() {
        let chain = [
            "1.0_alpha",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0_p1",
            "1.0a",
            "1.0.1",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0-r0"), v("1.0-r00"));
        assert!(v("1.0") < v("1.0-r0"));
    }

    #[test]
    fn fuzzy_matching_reads_only_as_far_as_it_must() {
        use Ordering::*;
        assert_eq!(fuzzy_cmp("3.6.9_post1", "3.6"), Ok(Equal));
        assert_eq!(fuzzy_cmp("3.6.9_post1", "3.8"), Ok(Less));
        assert_eq!(fuzzy_cmp("3.8", "3.8.1"), Ok(Less));
        assert_eq!(fuzzy_cmp("3.6.0-r2", "3.6.0"), Ok(Equal));
        // The malformed part decides: an error, never a guess.
        assert!(fuzzy_cmp("3.6_post1", "3.6.1").is_err());
        assert!(fuzzy_cmp("3.6", "3.6_post1").is_err());
        assert!(fuzzy_cmp("", "3.6").is_err());
        assert!(fuzzy_cmp("x", "").is_err());
    }

    #[test]
    fn commit_hash_sits_between_suffixes_and_revision() {
        assert!(v("1.0~1234") < v("1.0~2345"));
        assert!(v("1.0~1234-r1") > v("1.0~1234-r0"));
        assert!(v("1.0_p1~ab") > v("1.0_p1"));
        assert!(v("1.0~ab") > v("1.0-r9"));
    }

    #[test]
    fn suffix_ranks() {
        let chain = [
            "1_alpha", "1_beta", "1_pre", "1_rc", "1", "1_cvs", "1_svn", "1_git", "1_hg", "1_p",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn leading_zeros_make_dot_numbers_strings() {
        assert!(v("1.2.07") < v("1.2.7"));
        assert!(v("8.2.0") < v("8.2.001"));
        assert!(v("8.2.0015") < v("8.2.002"));
        assert!(v("006") > v("1.0.0"));
        assert_eq!(v("006"), v("6"));
        assert!(v("1.0.0_pre99999999999999999999999") > v("1.0.0_pre9999999999"));
    }

    #[test]
    fn each_syntax_error_says_what_is_wrong() {
        assert_eq!(reason(""), ApkSyntax::Empty);
        assert_eq!(reason("a1"), ApkSyntax::NotStartingWithDigit);
        assert_eq!(reason("1..2"), ApkSyntax::EmptyNumber(2));
        assert_eq!(reason("1."), ApkSyntax::EmptyNumber(2));
        assert_eq!(reason("1.0_foo"), ApkSyntax::UnknownSuffix(4));
        assert_eq!(reason("1.0_alphabet"), ApkSyntax::UnknownSuffix(4));
        assert_eq!(reason("1.0-r"), ApkSyntax::EmptyRevision);
        assert_eq!(reason("1.0bc"), ApkSyntax::Unexpected(4, 'c'));
        assert_eq!(reason("1.0a1"), ApkSyntax::Unexpected(4, '1'));
        assert_eq!(reason("1.0-r1_p1"), ApkSyntax::Unexpected(6, '_'));
        assert_eq!(reason("1.0~"), ApkSyntax::EmptyHash);
        assert_eq!(reason("1.0~12x"), ApkSyntax::Unexpected(6, 'x'));
        assert_eq!(reason("1.0-1"), ApkSyntax::Unexpected(3, '-'));
        assert_eq!(
            reason(&"1".repeat(crate::MAX_VERSION_LEN + 1)),
            ApkSyntax::TooLong
        );
    }
}
