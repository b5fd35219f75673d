//! Which distribution release a feed entry or an image belongs to, as one key: the family
//! (which fixes the version ordering) and the release as the feeds number it.

use ironroot_vercmp::Ecosystem;

/// A distribution family whose packages this crate matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Family {
    /// Debian (`Debian:<n>` in OSV, codenames in the tracker).
    Debian,
    /// Alpine Linux (`Alpine:v<major.minor>`).
    Alpine,
    /// Red Hat Enterprise Linux (`Red Hat:enterprise_linux:<n>...`).
    RedHat,
    /// AlmaLinux (`AlmaLinux:<n>`).
    AlmaLinux,
    /// Rocky Linux (`Rocky Linux:<n>`).
    RockyLinux,
}

impl Family {
    /// The version ordering of the family's package manager.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Family::Debian => Ecosystem::Dpkg,
            Family::Alpine => Ecosystem::Apk,
            Family::RedHat | Family::AlmaLinux | Family::RockyLinux => Ecosystem::Rpm,
        }
    }
}

/// One release of one family: the first level of the database's index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace {
    /// The family.
    pub family: Family,
    /// `12` for Debian 12, `3.20` for Alpine 3.20, `9` for RHEL 9.
    pub release: String,
}

/// The distribution of a scanned image, as its `/etc/os-release` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    /// os-release `ID`: `debian`, `alpine`, `rhel`, `almalinux`, `rocky`.
    pub id: String,
    /// os-release `VERSION_ID`: `12`, `3.20.3`, `9.4`.
    pub version_id: String,
}

impl Distro {
    /// The namespace whose advisories apply, or `None` for a distribution not supported.
    pub fn namespace(&self) -> Option<Namespace> {
        let family = match self.id.as_str() {
            "debian" => Family::Debian,
            "alpine" => Family::Alpine,
            "rhel" => Family::RedHat,
            "almalinux" => Family::AlmaLinux,
            "rocky" => Family::RockyLinux,
            _ => return None,
        };
        let release = match family {
            // Alpine's advisories are per major.minor branch; VERSION_ID has the patch too.
            Family::Alpine => major_minor(&self.version_id)?,
            _ => major(&self.version_id)?,
        };
        Some(Namespace { family, release })
    }
}

/// Maps an OSV `affected[].package.ecosystem` to a namespace; `None` for ecosystems this
/// crate keeps but does not match (Ubuntu, language ecosystems, `Debian` without release...).
pub fn osv_namespace(ecosystem: &str) -> Option<Namespace> {
    let (name, rest) = ecosystem.split_once(':')?;
    let (family, release) = match name {
        "Debian" => (Family::Debian, numeric(rest)?),
        "Alpine" => (Family::Alpine, major_minor(rest.strip_prefix('v')?)?),
        "AlmaLinux" => (Family::AlmaLinux, numeric(rest)?),
        "Rocky Linux" => (Family::RockyLinux, numeric(rest)?),
        // `Red Hat:enterprise_linux:9::appstream`: only the main RHEL stream; EUS/AUS/E4S
        // streams have their own fixes and are not what a plain `rhel` image runs.
        "Red Hat" => {
            let mut parts = rest.split(':');
            if parts.next()? != "enterprise_linux" {
                return None;
            }
            (Family::RedHat, major(parts.next()?)?)
        }
        _ => return None,
    };
    Some(Namespace { family, release })
}

/// The Debian release number of a tracker codename; `None` for sid/experimental and
/// releases older than this crate cares about.
pub fn debian_codename_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

fn numeric(s: &str) -> Option<String> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
}

fn major(version: &str) -> Option<String> {
    numeric(version.split('.').next()?)
}

fn major_minor(version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let major = numeric(parts.next()?)?;
    let minor = numeric(parts.next()?)?;
    Some(format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(family: Family, release: &str) -> Option<Namespace> {
        Some(Namespace {
            family,
            release: release.to_owned(),
        })
    }

    #[test]
    fn osv_ecosystems_map_to_namespaces() {
        assert_eq!(osv_namespace("Debian:12"), ns(Family::Debian, "12"));
        assert_eq!(osv_namespace("Alpine:v3.20"), ns(Family::Alpine, "3.20"));
        assert_eq!(osv_namespace("AlmaLinux:9"), ns(Family::AlmaLinux, "9"));
        assert_eq!(osv_namespace("Rocky Linux:8"), ns(Family::RockyLinux, "8"));
        assert_eq!(
            osv_namespace("Red Hat:enterprise_linux:9::appstream"),
            ns(Family::RedHat, "9")
        );
        for other in [
            "Debian",
            "Debian:sid",
            "Alpine:3.20",
            "Ubuntu:22.04:LTS",
            "PyPI",
            "Red Hat:rhel_eus:8.6::baseos",
            "",
        ] {
            assert_eq!(osv_namespace(other), None, "{other}");
        }
    }

    #[test]
    fn distros_map_to_namespaces() {
        let d = |id: &str, v: &str| Distro {
            id: id.into(),
            version_id: v.into(),
        };
        assert_eq!(d("debian", "12").namespace(), ns(Family::Debian, "12"));
        assert_eq!(
            d("alpine", "3.20.3").namespace(),
            ns(Family::Alpine, "3.20")
        );
        assert_eq!(d("rhel", "9.4").namespace(), ns(Family::RedHat, "9"));
        assert_eq!(d("ubuntu", "22.04").namespace(), None);
        assert_eq!(d("alpine", "edge").namespace(), None);
    }

    #[test]
    fn codenames_map_to_release_numbers() {
        assert_eq!(debian_codename_release("bookworm"), Some("12"));
        assert_eq!(debian_codename_release("trixie"), Some("13"));
        assert_eq!(debian_codename_release("bullseye"), Some("11"));
        assert_eq!(debian_codename_release("forky"), Some("14"));
        assert_eq!(debian_codename_release("sid"), None);
    }
}
