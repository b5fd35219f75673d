//! Package URLs (purl) for installed distribution packages, as the purl specification
//! (package-url/purl-spec, `docs/standard/` and `types/{deb,apk,rpm}-definition.json`)
//! builds them:
//!
//! - type and qualifier keys are lowercase; qualifiers are sorted by key and empty ones left out;
//! - the namespace is the vendor (`debian`, `ubuntu`, `alpine`, `almalinux`): lowercase for all three types;
//! - the name is lowercase for `deb` and `apk`, case sensitive for `rpm`;
//! - `deb` keeps the epoch in the version (`attr@1:2.4.47-2%2Bb1`, the spec's own example); `rpm` moves it
//!   to the `epoch` qualifier and keeps `version-release` (`centerim@4.22.10-1.el6?...&epoch=1`);
//! - every component is percent-encoded except the alphanumerics, `.-_~` and the colon,
//!   which the spec says must never be encoded.

use crate::OsRelease;
use ironroot_pkgdb::{Ecosystem, Package};
use std::collections::BTreeMap;
use std::fmt;

/// One package URL, with the type's normalization applied when it was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
}

impl Purl {
    /// A purl from its components, normalized for its type (lowercase type, namespace of
    /// `deb`/`apk`/`rpm`, name of `deb`/`apk`).
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Purl {
        let ty = ty.to_ascii_lowercase();
        let distro_type = matches!(ty.as_str(), "deb" | "apk" | "rpm");
        let lower_name = matches!(ty.as_str(), "deb" | "apk");
        Purl {
            namespace: namespace.filter(|n| !n.is_empty()).map(|n| {
                if distro_type {
                    n.to_lowercase()
                } else {
                    n.to_owned()
                }
            }),
            name: if lower_name {
                name.to_lowercase()
            } else {
                name.to_owned()
            },
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: BTreeMap::new(),
            ty,
        }
    }

    /// Adds a qualifier; an empty value is no qualifier (the spec drops them).
    pub fn qualifier(mut self, key: &str, value: &str) -> Purl {
        if !value.is_empty() {
            self.qualifiers
                .insert(key.to_ascii_lowercase(), value.to_owned());
        }
        self
    }

    /// The purl of an installed package. The vendor and the `distro` qualifier come from
    /// os-release (`debian-12`, `alpine-3.20.3`, `almalinux-9.4`); without it, `deb` and
    /// `apk` fall back to their main vendor and `rpm`, which has no main vendor, has none.
    pub fn for_package(p: &Package, os: Option<&OsRelease>) -> Purl {
        let vendor = os.map(|o| o.id.as_str()).filter(|id| !id.is_empty());
        let arch = p.arch.as_deref().unwrap_or_default();
        let purl = match p.ecosystem {
            Ecosystem::Dpkg => {
                Purl::new("deb", vendor.or(Some("debian")), &p.name, Some(&p.version))
            }
            Ecosystem::Apk => {
                Purl::new("apk", vendor.or(Some("alpine")), &p.name, Some(&p.version))
            }
            Ecosystem::Rpm => {
                let (epoch, version) = split_rpm_epoch(&p.version);
                Purl::new("rpm", vendor, &p.name, Some(version)).qualifier("epoch", epoch)
            }
            // A package manager this module does not know yet still gets a valid purl.
            _ => Purl::new("generic", None, &p.name, Some(&p.version)),
        };
        purl.qualifier("arch", arch)
            .qualifier("distro", &os.map(distro).unwrap_or_default())
    }
}

/// `debian-12`, `alpine-3.20.3`; Debian testing has no `VERSION_ID`, and then the release
/// its codename stands for (or the codename itself) names it.
fn distro(os: &OsRelease) -> String {
    let d = os.distro();
    match (d.version_id.is_empty(), os.codename.as_deref()) {
        (false, _) => format!("{}-{}", d.id, d.version_id),
        (true, Some(codename)) if !codename.is_empty() => format!("{}-{codename}", d.id),
        (true, _) => d.id,
    }
}

/// rpm's `[epoch:]version-release` as (`epoch`, `version-release`); an epoch is digits only.
fn split_rpm_epoch(version: &str) -> (&str, &str) {
    match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (epoch, rest)
        }
        _ => ("", version),
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            // A namespace may have segments; each is encoded, the slashes between kept.
            let segments: Vec<String> = ns.split('/').map(encode).collect();
            write!(f, "{}/", segments.join("/"))?;
        }
        f.write_str(&encode(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", encode(v))?;
        }
        Ok(())
    }
}

/// Percent-encodes everything but the spec's permitted characters, as UTF-8, upper-case hex.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version_id: &str) -> OsRelease {
        OsRelease {
            id: id.into(),
            version_id: version_id.into(),
            ..OsRelease::default()
        }
    }

    fn package(eco: Ecosystem, name: &str, version: &str, arch: &str) -> Package {
        let mut p = Package::new(eco, name, version);
        p.arch = Some(arch.into());
        p
    }

    #[test]
    fn debian_keeps_the_epoch_in_the_version_and_encodes_plus() {
        let p = package(Ecosystem::Dpkg, "Attr", "1:2.4.47-2+b1", "amd64");
        let purl = Purl::for_package(&p, Some(&os("debian", "12")));
        assert_eq!(
            purl.to_string(),
            "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn rpm_moves_the_epoch_to_a_qualifier_and_keeps_name_case() {
        let p = package(Ecosystem::Rpm, "NetworkManager", "1:1.46.0-8.el9", "x86_64");
        let purl = Purl::for_package(&p, Some(&os("almalinux", "9.4")));
        assert_eq!(
            purl.to_string(),
            "pkg:rpm/almalinux/NetworkManager@1.46.0-8.el9?arch=x86_64&distro=almalinux-9.4&epoch=1"
        );
    }

    #[test]
    fn without_os_release_rpm_has_no_vendor_and_nothing_says_distro() {
        let p = package(Ecosystem::Rpm, "bash", "5.1.8-9.el9", "x86_64");
        assert_eq!(
            Purl::for_package(&p, None).to_string(),
            "pkg:rpm/bash@5.1.8-9.el9?arch=x86_64"
        );
        let d = package(Ecosystem::Apk, "musl", "1.2.5-r0", "x86_64");
        assert_eq!(
            Purl::for_package(&d, None).to_string(),
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64"
        );
    }

    #[test]
    fn debian_testing_without_version_id_uses_its_release() {
        let mut testing = os("debian", "");
        testing.codename = Some("trixie".into());
        let p = package(Ecosystem::Dpkg, "bash", "5.2.21-2", "arm64");
        assert!(Purl::for_package(&p, Some(&testing))
            .to_string()
            .ends_with("&distro=debian-13"));
    }

    #[test]
    fn hostile_names_cannot_add_components() {
        let p = package(Ecosystem::Apk, "a/b?c=d&e#f@g", "1 2%", "x86_64");
        assert_eq!(
            Purl::for_package(&p, None).to_string(),
            "pkg:apk/alpine/a%2Fb%3Fc%3Dd%26e%23f%40g@1%202%25?arch=x86_64"
        );
    }
}
