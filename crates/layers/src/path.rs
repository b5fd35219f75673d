//! Paths inside a layer, made relative to the image root and checked.

/// Why a path was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathIssue {
    #[error("the path climbs out of the image with '..'")]
    Traversal,
    #[error("the path is empty")]
    Empty,
    #[error("the path is not UTF-8")]
    NotUtf8,
    #[error("the path is longer than {0} bytes")]
    TooLong(usize),
    #[error("the path holds a NUL byte")]
    Nul,
}

/// `raw` relative to the image root: leading `/` and `./` dropped, `.` segments and
/// repeated slashes removed, `..` resolved; a path that would leave the root is
/// [`PathIssue::Traversal`]. The root itself is `""` only when `allow_root`.
pub fn normalize(raw: &[u8], max_len: usize) -> Result<String, PathIssue> {
    if raw.len() > max_len {
        return Err(PathIssue::TooLong(max_len));
    }
    if raw.contains(&0) {
        return Err(PathIssue::Nul);
    }
    let s = std::str::from_utf8(raw).map_err(|_| PathIssue::NotUtf8)?;
    let mut parts: Vec<&str> = Vec::new();
    for seg in s.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathIssue::Traversal);
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(PathIssue::Empty);
    }
    Ok(parts.join("/"))
}

/// Whether a symlink at `path` (normalised) with `target` points outside the image when
/// resolved lexically. Absolute targets resolve inside the image root (as in a
/// container), so only relative targets climbing above the root escape.
pub fn symlink_escapes(path: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return false;
    }
    let mut depth: i64 = path.matches('/').count() as i64; // the link's directory depth
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn normalises_and_refuses_escapes() {
        for (raw, want) in [
            ("./etc/passwd", "etc/passwd"),
            ("/etc//shadow", "etc/shadow"),
            ("usr/./lib/../bin/sh", "usr/bin/sh"),
            ("var/lib/dpkg/status", "var/lib/dpkg/status"),
        ] {
            assert_eq!(normalize(raw.as_bytes(), 4096).unwrap(), want);
        }
        assert_eq!(normalize(b"../etc/passwd", 4096), Err(PathIssue::Traversal));
        assert_eq!(normalize(b"a/../../b", 4096), Err(PathIssue::Traversal));
        assert_eq!(normalize(b"./", 4096), Err(PathIssue::Empty));
        assert_eq!(normalize(b"a\xffb", 4096), Err(PathIssue::NotUtf8));
        assert_eq!(normalize(&[b'a'; 10], 9), Err(PathIssue::TooLong(9)));
    }

    #[test]
    fn symlinks_escape_only_by_climbing() {
        assert!(!symlink_escapes("bin/sh", "busybox"));
        assert!(!symlink_escapes("bin/sh", "/bin/busybox"));
        assert!(!symlink_escapes("usr/lib/x", "../../etc/passwd"));
        assert!(symlink_escapes("usr/lib/x", "../../../etc/passwd"));
        assert!(symlink_escapes("x", "../y"));
        assert!(!symlink_escapes("a/b", "c/../../d"));
    }
}
