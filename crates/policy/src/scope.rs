//! Where a policy applies: clusters and namespaces (`all` or names with `*` wildcards), and
//! exclusions, each with a reason and an expiry (an expired exclusion no longer excludes,
//! so a forgotten waiver ends by itself).

use serde::Serialize;

/// A name or a pattern where `*` matches any run of characters (`kube-*`). Only the
/// characters of Kubernetes names and `*`, so a pattern is never a regular expression
/// with its own cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Pattern(String);

impl Pattern {
    pub(crate) const MAX_LEN: usize = 253;

    /// `None` when `text` is empty, too long or holds characters no Kubernetes name has.
    pub fn parse(text: &str) -> Option<Pattern> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.*".contains(c);
        (!text.is_empty() && text.len() <= Self::MAX_LEN && text.chars().all(ok))
            .then(|| Pattern(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Glob match with `*` only, linear in the input (greedy with one backtrack point).
    pub fn matches(&self, name: &str) -> bool {
        let (p, n) = (self.0.as_bytes(), name.as_bytes());
        let (mut pi, mut ni) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ni < n.len() {
            if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, ni));
                pi += 1;
            } else if pi < p.len() && p[pi] == n[ni] {
                pi += 1;
                ni += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
}

/// `all`, or the names (patterns) listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    All,
    Names(Vec<Pattern>),
}

impl Selection {
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Names(names) => names.iter().any(|p| p.matches(name)),
        }
    }
}

/// Objects a policy does not judge, for a reason, until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub namespace: Option<Pattern>,
    pub name: Option<Pattern>,
    pub reason: String,
    /// Unix seconds; the exclusion holds strictly before it.
    pub expires: u64,
}

impl Exclusion {
    /// Whether it excludes the object at `now`: not expired, and every pattern it has
    /// matches (it has at least one: the loader refuses an exclusion of everything).
    pub fn excludes(&self, namespace: &str, name: &str, now: u64) -> bool {
        now < self.expires
            && self.namespace.as_ref().is_none_or(|p| p.matches(namespace))
            && self.name.as_ref().is_none_or(|p| p.matches(name))
    }
}

/// A policy's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub clusters: Selection,
    pub namespaces: Selection,
    pub exclusions: Vec<Exclusion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn patterns_match_with_stars_only() {
        assert!(p("kube-*").matches("kube-system"));
        assert!(!p("kube-*").matches("default"));
        assert!(p("*").matches(""));
        assert!(p("a*b*c").matches("axxbyyc"));
        assert!(!p("a*b*c").matches("axxbyy"));
        assert!(p("prod").matches("prod"));
        assert!(!p("prod").matches("prod-1"));
        assert!(p("*-1").matches("prod-1"));
    }

    #[test]
    fn patterns_refuse_what_no_name_holds() {
        assert!(Pattern::parse("").is_none());
        assert!(Pattern::parse("Kube").is_none());
        assert!(Pattern::parse("a/b").is_none());
        assert!(Pattern::parse(&"a".repeat(254)).is_none());
    }

    #[test]
    fn an_exclusion_holds_until_it_expires() {
        let e = Exclusion {
            namespace: Some(p("legacy")),
            name: None,
            reason: "migration".into(),
            expires: 100,
        };
        assert!(e.excludes("legacy", "x", 99));
        assert!(!e.excludes("legacy", "x", 100));
        assert!(!e.excludes("other", "x", 50));
    }
}
