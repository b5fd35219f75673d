//! `/etc/os-release`, which names the distribution whose advisories apply.

use ironroot_vulndb::Distro;

/// Files that may hold it, in the order systemd's os-release(5) says to look.
pub const PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// The distribution an os-release file names, or `None` without `ID`. Values may be
/// quoted in single or double quotes; other lines are ignored (the format is a
/// shell-compatible assignment list, and nothing else in it matters here).
pub fn parse(text: &[u8]) -> Option<OsRelease> {
    let text = String::from_utf8_lossy(text);
    let mut out = OsRelease::default();
    for line in text.lines().take(200) {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => out.id = value.to_ascii_lowercase(),
            "VERSION_ID" => out.version_id = value,
            "VERSION_CODENAME" => out.codename = Some(value),
            "PRETTY_NAME" => out.pretty_name = Some(value),
            _ => {}
        }
    }
    (!out.id.is_empty()).then_some(out)
}

fn unquote(v: &str) -> String {
    let stripped = ['"', '\'']
        .iter()
        .find_map(|q| v.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)));
    stripped.unwrap_or(v).chars().take(256).collect()
}

/// What the scanner keeps of os-release.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// The distribution, for matching. Debian testing/unstable have no VERSION_ID; their
    /// codename decides the release then.
    pub fn distro(&self) -> Distro {
        let version_id = if self.version_id.is_empty() {
            self.codename
                .as_deref()
                .and_then(ironroot_vulndb::debian_codename_release)
                .unwrap_or_default()
                .to_owned()
        } else {
            self.version_id.clone()
        };
        Distro {
            id: self.id.clone(),
            version_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debian_12_as_shipped() {
        let text = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let os = parse(text).unwrap();
        assert_eq!(os.distro().id, "debian");
        assert_eq!(os.distro().version_id, "12");
        assert_eq!(os.codename.as_deref(), Some("bookworm"));
    }

    #[test]
    fn alpine_and_testing_without_version_id() {
        let a = parse(b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n").unwrap();
        assert_eq!(a.distro().version_id, "3.20.3");
        let t = parse(b"ID=debian\nVERSION_CODENAME=trixie\n").unwrap();
        assert_eq!(t.distro().version_id, "13");
    }

    #[test]
    fn no_id_is_no_distribution() {
        assert!(parse(b"NAME=thing\n\0\xff").is_none());
    }
}
