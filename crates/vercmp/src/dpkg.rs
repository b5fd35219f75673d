//! Debian package versions, `[epoch:]upstream[-revision]`, ordered as deb-version(7) and
//! Debian Policy 5.6.12 describe:
//!
//! * the epoch (default 0) is compared as a number first;
//! * then the upstream version, then the revision (absent = `"0"`), each by alternating a
//!   non-digit run and a digit run. Non-digit runs compare character by character where
//!   `~` sorts before everything, even the end of the run, letters sort before all other
//!   characters, and the end of the run sorts before any letter. Digit runs compare by
//!   numeric value (`1.09 == 1.9`).
//!
//! Parsing follows dpkg's checks and wording; what dpkg only warns about (an upstream that
//! does not start with a digit, a character outside the allowed set) is an error here too.

use std::cmp::Ordering;

use crate::digits::{cmp_digits, digit_run};
use crate::error::{DpkgSyntax, VersionError};

/// A valid dpkg version. Equality is the ordering's: `1.09` equals `1.9`, `1.0` equals
/// `0:1.0-0`.
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    epoch: u32,
    upstream: String,
    revision: Option<String>,
}

impl DpkgVersion {
    /// Parses and checks a version string.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        parse(input).map_err(|reason| VersionError::dpkg(input, reason))
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision, if the version has one.
    pub fn revision(&self) -> Option<&str> {
        self.revision.as_deref()
    }
}

impl std::fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.epoch != 0 || self.upstream.contains(':') {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        match &self.revision {
            Some(r) => write!(f, "-{r}"),
            None => Ok(()),
        }
    }
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_fragment(&self.upstream, &other.upstream))
            .then_with(|| {
                compare_fragment(
                    self.revision.as_deref().unwrap_or(""),
                    other.revision.as_deref().unwrap_or(""),
                )
            })
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

fn parse(input: &str) -> Result<DpkgVersion, DpkgSyntax> {
    if input.is_empty() {
        return Err(DpkgSyntax::Empty);
    }
    if input.len() > crate::MAX_VERSION_LEN {
        return Err(DpkgSyntax::TooLong);
    }
    if input.chars().any(char::is_whitespace) {
        return Err(DpkgSyntax::EmbeddedSpace);
    }
    let (epoch, rest) = match input.split_once(':') {
        Some((epoch, rest)) => (parse_epoch(epoch)?, rest),
        None => (0, input),
    };
    if rest.is_empty() {
        return Err(DpkgSyntax::NothingAfterColon);
    }
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err(DpkgSyntax::RevisionEmpty),
        Some((upstream, revision)) => (upstream, Some(revision)),
        None => (rest, None),
    };
    check_upstream(upstream)?;
    if let Some(bad) = revision.and_then(|r| r.chars().find(|&c| !is_revision_char(c))) {
        return Err(DpkgSyntax::InvalidRevisionChar(bad));
    }
    Ok(DpkgVersion {
        epoch,
        upstream: upstream.to_owned(),
        revision: revision.map(str::to_owned),
    })
}

fn parse_epoch(epoch: &str) -> Result<u32, DpkgSyntax> {
    let digits = epoch.strip_prefix('-').unwrap_or(epoch);
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(DpkgSyntax::EpochEmpty);
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(DpkgSyntax::EpochNotNumber);
    }
    if digits.len() != epoch.len() && digits.bytes().any(|c| c != b'0') {
        return Err(DpkgSyntax::EpochNegative);
    }
    // dpkg keeps the epoch in a C int.
    match digits.parse::<u32>() {
        Ok(n) if n <= i32::MAX as u32 => Ok(n),
        _ => Err(DpkgSyntax::EpochTooBig),
    }
}

fn check_upstream(upstream: &str) -> Result<(), DpkgSyntax> {
    match upstream.chars().next() {
        None => Err(DpkgSyntax::UpstreamEmpty),
        Some(c) if !c.is_ascii_digit() => Err(DpkgSyntax::UpstreamNotStartingWithDigit),
        Some(_) => match upstream.chars().find(|&c| !is_upstream_char(c)) {
            Some(bad) => Err(DpkgSyntax::InvalidUpstreamChar(bad)),
            None => Ok(()),
        },
    }
}

// ':' can only remain in the upstream part when there is an epoch, and '-' only when
// there is a revision: splitting at the first ':' and the last '-' sees to that.
fn is_upstream_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':')
}

fn is_revision_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')
}

/// Orders two upstream versions or two revisions the way dpkg does (its `verrevcmp`).
/// An empty fragment equals `"0"`.
pub fn compare_fragment(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        let (a_text, b_text) = (non_digit_run(a), non_digit_run(b));
        let ord = compare_text(&a[..a_text], &b[..b_text]);
        if ord != Ordering::Equal {
            return ord;
        }
        (a, b) = (&a[a_text..], &b[b_text..]);
        let (a_num, b_num) = (digit_run(a), digit_run(b));
        let ord = cmp_digits(&a[..a_num], &b[..b_num]);
        if ord != Ordering::Equal {
            return ord;
        }
        (a, b) = (&a[a_num..], &b[b_num..]);
    }
    Ordering::Equal
}

fn non_digit_run(s: &[u8]) -> usize {
    s.iter().take_while(|c| !c.is_ascii_digit()).count()
}

/// Non-digit runs: position by position, the end of a run weighing as a neutral 0.
fn compare_text(a: &[u8], b: &[u8]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| weight(a.get(i).copied()).cmp(&weight(b.get(i).copied())))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// `~` < end of run < letters < everything else (each group in ASCII order).
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> DpkgVersion {
        DpkgVersion::parse(s).unwrap()
    }

    fn reason(s: &str) -> DpkgSyntax {
        match DpkgVersion::parse(s).unwrap_err() {
            VersionError::Dpkg { reason, .. } => reason,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn splits_at_first_colon_and_last_hyphen() {
        let x = v("2:1.0-rc:1-3");
        assert_eq!(
            (x.epoch(), x.upstream(), x.revision()),
            (2, "1.0-rc:1", Some("3"))
        );
        let y = v("1.0");
        assert_eq!((y.epoch(), y.revision()), (0, None));
        assert_eq!(x.to_string(), "2:1.0-rc:1-3");
    }

    #[test]
    fn tilde_sorts_before_the_end() {
        assert!(v("1.0~rc1") < v("1.0"));
        assert!(v("1.0~~") < v("1.0~"));
        assert!(v("1.0~rc1-1") < v("1.0-1"));
    }

    #[test]
    fn letters_sort_before_other_characters() {
        assert!(v("1.0a") < v("1.0+"));
        assert!(v("1.0") < v("1.0a"));
        assert!(v("1.0Z") < v("1.0a"));
    }

    #[test]
    fn numbers_are_values_of_any_length() {
        assert_eq!(v("1.09"), v("1.9"));
        assert!(v("1.99999999999999999999999") < v("1.100000000000000000000000"));
        assert_eq!(v("1.0-0"), v("1.0"));
    }

    #[test]
    fn epoch_outranks_everything() {
        assert!(v("1:0.1") > v("9.9-9"));
        assert_eq!(v("0:1.0"), v("1.0"));
    }

    #[test]
    fn each_syntax_error_says_what_is_wrong() {
        assert_eq!(reason(""), DpkgSyntax::Empty);
        assert_eq!(reason("1.0 1"), DpkgSyntax::EmbeddedSpace);
        assert_eq!(reason(":1.0"), DpkgSyntax::EpochEmpty);
        assert_eq!(reason("a:1.0"), DpkgSyntax::EpochEmpty);
        assert_eq!(reason("10a:5.2"), DpkgSyntax::EpochNotNumber);
        assert_eq!(reason("-1:1.0"), DpkgSyntax::EpochNegative);
        assert_eq!(reason("2147483648:1.0"), DpkgSyntax::EpochTooBig);
        assert_eq!(reason("1:"), DpkgSyntax::NothingAfterColon);
        assert_eq!(reason("1.0-"), DpkgSyntax::RevisionEmpty);
        assert_eq!(reason("-1"), DpkgSyntax::UpstreamEmpty);
        assert_eq!(reason("foo5.2"), DpkgSyntax::UpstreamNotStartingWithDigit);
        assert_eq!(reason("0:foo5.2"), DpkgSyntax::UpstreamNotStartingWithDigit);
        assert_eq!(reason("5.2@3-2"), DpkgSyntax::InvalidUpstreamChar('@'));
        assert_eq!(reason("5.2-3_1"), DpkgSyntax::InvalidRevisionChar('_'));
        assert_eq!(
            reason(&"1".repeat(crate::MAX_VERSION_LEN + 1)),
            DpkgSyntax::TooLong
        );
    }

    #[test]
    fn largest_epoch_is_accepted() {
        assert_eq!(v("2147483647:1").epoch(), 2_147_483_647);
    }
}
