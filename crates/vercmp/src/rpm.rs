//! RPM versions, `[epoch:]version[-release]`, ordered as rpm orders them:
//!
//! * the epoch (absent = 0), then the version, then the release, each compared with
//!   [`rpmvercmp`];
//! * [`rpmvercmp`] walks both strings as runs of ASCII digits or ASCII letters, skipping
//!   every other byte as a separator (so `_`, `+` and `.` are all alike, and so are non-ASCII
//!   bytes). A digit run beats a letter run; digit runs compare by value; letter runs compare
//!   as bytes. `~` sorts before everything, even the end of the string (`1.0~rc1 < 1.0`);
//!   `^` sorts after the end of the string but before any further segment
//!   (`1.0 < 1.0^git1 < 1.0.1`). When everything compared equal, the string with a segment
//!   left over is newer.
//!
//! A missing release sorts before every release, even an empty one (`1.0 < 1.0-0`), which is
//! what rpm 4.18's `rpm.vercmp` answers. rpm's dependency matching is looser: a requirement
//! without a release matches any release (`1.0` against `1.0-3`); that relation is not
//! transitive, so it is not [`Ord`] but [`RpmVersion::cmp_for_dependency`].

use std::cmp::Ordering;

use crate::digits::{cmp_digits, digit_run};
use crate::error::{RpmSyntax, VersionError};

/// An rpm epoch-version-release. Equality is the ordering's (`2.0 == 2_0`).
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: Option<String>,
    version: String,
    release: Option<String>,
}

impl RpmVersion {
    /// Splits `[epoch:]version[-release]` as rpm does: an epoch only when all the bytes before
    /// the first `:` are digits (otherwise the `:` belongs to the version), the release after
    /// the last `-`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.is_empty() {
            return Err(VersionError::rpm(input, RpmSyntax::Empty));
        }
        if input.len() > crate::MAX_VERSION_LEN {
            return Err(VersionError::rpm(input, RpmSyntax::TooLong));
        }
        let digits = digit_run(input.as_bytes());
        let (epoch, rest) = match input[digits..].strip_prefix(':') {
            Some(rest) => (Some(input[..digits].to_owned()), rest),
            None => (None, input),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((version, release)) => (version, Some(release.to_owned())),
            None => (rest, None),
        };
        Ok(RpmVersion {
            epoch,
            version: version.to_owned(),
            release,
        })
    }

    /// The epoch digits as written (`None` when absent; an empty epoch, `:1.0`, counts as 0).
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The release, if present.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }

    /// rpm's dependency-matching comparison: like [`Ord`], except that when either side has
    /// no release the releases are not compared (`1.0` matches `1.0-3`). Not transitive.
    pub fn cmp_for_dependency(&self, other: &Self) -> Ordering {
        self.cmp_epoch_version(other)
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                _ => Ordering::Equal,
            })
    }

    fn cmp_epoch_version(&self, other: &Self) -> Ordering {
        let epoch = |v: &Self| v.epoch.as_deref().unwrap_or("0").to_owned();
        cmp_digits(epoch(self).as_bytes(), epoch(other).as_bytes())
            .then_with(|| rpmvercmp(&self.version, &other.version))
    }
}

impl std::fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(e) = &self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(&self.version)?;
        match &self.release {
            Some(r) => write!(f, "-{r}"),
            None => Ok(()),
        }
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_epoch_version(other)
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

/// Orders two version (or release) strings the way rpm's `rpmvercmp` does. Never fails:
/// rpm gives every string an order.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut one, mut two) = (a.as_bytes(), b.as_bytes());
    loop {
        one = skip_separators(one);
        two = skip_separators(two);
        match marker_order(one, two) {
            Marker::Decided(ord) => return ord,
            Marker::BothSkip => {
                (one, two) = (&one[1..], &two[1..]);
                continue;
            }
            Marker::None => {}
        }
        if one.is_empty() || two.is_empty() {
            // Whoever still has a segment is newer; equal when both ran out.
            return (!one.is_empty()).cmp(&!two.is_empty());
        }
        let numeric = one[0].is_ascii_digit();
        let run = |s: &[u8]| -> usize {
            if numeric {
                digit_run(s)
            } else {
                s.iter().take_while(|c| c.is_ascii_alphabetic()).count()
            }
        };
        let (len_one, len_two) = (run(one), run(two));
        if len_two == 0 {
            // Different kinds of segment: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ord = if numeric {
            cmp_digits(&one[..len_one], &two[..len_two])
        } else {
            one[..len_one].cmp(&two[..len_two])
        };
        if ord != Ordering::Equal {
            return ord;
        }
        (one, two) = (&one[len_one..], &two[len_two..]);
    }
}

fn skip_separators(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .take_while(|&&c| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^')
        .count();
    &s[n..]
}

enum Marker {
    /// Neither string is at a `~` or `^`.
    None,
    /// Both are at the same marker: step over it and go on.
    BothSkip,
    /// A marker decides the order.
    Decided(Ordering),
}

fn marker_order(one: &[u8], two: &[u8]) -> Marker {
    let (a, b) = (one.first().copied(), two.first().copied());
    if a == Some(b'~') || b == Some(b'~') {
        // A tilde sorts before anything, the end of the string included.
        return match (a == Some(b'~'), b == Some(b'~')) {
            (true, true) => Marker::BothSkip,
            (false, _) => Marker::Decided(Ordering::Greater),
            (true, false) => Marker::Decided(Ordering::Less),
        };
    }
    if a == Some(b'^') || b == Some(b'^') {
        // A caret sorts after the end of the string, before anything else.
        return match (a, b) {
            (None, _) => Marker::Decided(Ordering::Less),
            (_, None) => Marker::Decided(Ordering::Greater),
            (Some(b'^'), Some(b'^')) => Marker::BothSkip,
            (Some(b'^'), _) => Marker::Decided(Ordering::Less),
            _ => Marker::Decided(Ordering::Greater),
        };
    }
    Marker::None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> RpmVersion {
        RpmVersion::parse(s).unwrap()
    }

    #[test]
    fn splits_epoch_version_release() {
        let x = v("3:1.2.3-4.el9");
        assert_eq!(
            (x.epoch(), x.version(), x.release()),
            (Some("3"), "1.2.3", Some("4.el9"))
        );
        let y = v("a:1-2-3");
        assert_eq!(
            (y.epoch(), y.version(), y.release()),
            (None, "a:1-2", Some("3"))
        );
        assert_eq!(x.to_string(), "3:1.2.3-4.el9");
    }

    #[test]
    fn missing_epoch_is_zero() {
        assert_eq!(v("0:1.0-1"), v("1.0-1"));
        assert_eq!(v(":1.0"), v("1.0"));
        assert!(v("1:1.0") > v("2.0"));
        assert!(v("99999999999999999999:1") > v("9999999999999999999:1"));
    }

    #[test]
    fn caret_sorts_after_the_end_and_before_more_segments() {
        assert_eq!(rpmvercmp("1.0^", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0^git2"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0~rc1^git1", "1.0~rc1"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1~pre", "1.0^git1"), Ordering::Less);
    }

    #[test]
    fn missing_release_sorts_first_but_matches_a_dependency() {
        assert!(v("1.0") < v("1.0-1"));
        assert!(v("1.0") < v("1.0-"));
        assert!(v("1.0") < v("1.0-~1"));
        assert_eq!(v("1.0").cmp_for_dependency(&v("1.0-1")), Ordering::Equal);
        assert_eq!(v("1.0-2").cmp_for_dependency(&v("1.0-10")), Ordering::Less);
    }

    #[test]
    fn empty_and_oversized_are_errors() {
        assert!(RpmVersion::parse("").is_err());
        assert!(RpmVersion::parse(&"1".repeat(crate::MAX_VERSION_LEN + 1)).is_err());
    }
}
