//! Host names as nodes give them at enrollment. A node chooses its own name, and the
//! name reaches tables, logs and Kubernetes labels, so it must be a DNS name
//! (RFC 1123: dot-separated labels of letters, digits and inner hyphens) and nothing
//! else: no control characters, no spaces, no look-alike Unicode.

/// Why a name is not a DNS host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostnameError {
    #[error("empty")]
    Empty,
    #[error("longer than 253 characters")]
    TooLong,
    #[error("label {0} is empty or longer than 63 characters")]
    LabelLength(usize),
    #[error("label {0} starts or ends with a hyphen")]
    Hyphen(usize),
    #[error("only letters a-z, digits, hyphens and dots are allowed (found {0})")]
    Character(String),
}

/// The longest DNS name, in characters, without the root's trailing dot.
pub const MAX_HOSTNAME: usize = 253;

/// Checks that `name` is a DNS host name and returns it in lower case (DNS names are
/// case-insensitive; one spelling per host keeps names unique).
pub fn dns_hostname(name: &str) -> Result<String, HostnameError> {
    if name.is_empty() {
        return Err(HostnameError::Empty);
    }
    if name.len() > MAX_HOSTNAME {
        return Err(HostnameError::TooLong);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(HostnameError::Character(c.escape_default().to_string()));
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty() || label.len() > 63 {
            return Err(HostnameError::LabelLength(i + 1));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostnameError::Hyphen(i + 1));
        }
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_pass_in_lower_case() {
        for (given, want) in [
            ("node-1", "node-1"),
            ("Node-1.EU.example", "node-1.eu.example"),
            ("a", "a"),
            ("0abc", "0abc"),
        ] {
            assert_eq!(dns_hostname(given).as_deref(), Ok(want));
        }
        let longest = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(longest.len(), 253);
        assert!(dns_hostname(&longest).is_ok());
    }

    #[test]
    fn forged_log_lines_and_other_non_names_are_refused() {
        for bad in [
            "",
            "node\n2026-01-01 INFO host enrolled",
            "node\u{1b}[2J",
            "node 1",
            "nöde",
            "node_1",
            "-node",
            "node-",
            "a..b",
            ".a",
            "a.",
            &"a".repeat(64),
            &"a.".repeat(127),
        ] {
            assert!(dns_hostname(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            dns_hostname("x\ny"),
            Err(HostnameError::Character("\\n".into()))
        );
    }
}
