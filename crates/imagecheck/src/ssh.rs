//! Remote login: an SSH server installed, enabled at boot, or configured to let root,
//! passwords or empty passwords in.

use crate::finding::{self as rule, Finding};
use crate::text::{self, TextFile};
use crate::want::{ssh_enablement, SSH_BINARIES};
use crate::ImageConfig;
use ironroot_layers::Overlay;
use ironroot_pkgdb::{Ecosystem, Package};
use std::collections::BTreeMap;

/// Packages that install an SSH server. Alpine's `openssh` is a meta-package pulling in the
/// server; elsewhere (rpm) `openssh` is only the common files, so it counts for apk alone.
const SERVER_PACKAGES: &[&str] = &[
    "openssh-server",
    "openssh-server-pam",
    "dropbear",
    "dropbear-bin",
    "dropbear-run",
    "tinyssh",
];

/// Include nesting deeper than this is a loop or abuse, and so are more files than this in
/// all (a glob in a loop would otherwise read files to the power of the depth).
const MAX_INCLUDE_DEPTH: usize = 4;
const MAX_INCLUDED_FILES: usize = 64;

pub(crate) fn check(
    files: &Overlay,
    packages: &[Package],
    config: &ImageConfig,
    out: &mut Vec<Finding>,
) {
    let mut installed = false;
    for p in packages {
        let apk_meta = p.name == "openssh" && p.ecosystem == Ecosystem::Apk;
        if SERVER_PACKAGES.contains(&p.name.as_str()) || apk_meta {
            installed = true;
            out.push(
                Finding::new(&rule::SSH_INSTALLED)
                    .evidence(format!("package {} {}", p.name, p.version)),
            );
        }
    }
    for bin in SSH_BINARIES {
        if let Some(f) = files.get(bin) {
            // With no package owning it, the binary itself is the evidence (a manual build).
            if !installed {
                out.push(
                    Finding::new(&rule::SSH_INSTALLED)
                        .at(bin, f.layer)
                        .evidence("server binary present"),
                );
            }
            installed = true;
        }
    }
    for prefix in ["etc/", "usr/lib/systemd/system/"] {
        for (path, f) in files.under(prefix) {
            if let Some(service) = ssh_enablement(path) {
                out.push(
                    Finding::new(&rule::SSH_ENABLED)
                        .at(path, f.layer)
                        .evidence(format!("{service} enabled")),
                );
            }
        }
    }
    // sshd_config matters only where there is an sshd to read it; a leftover conffile of a
    // removed package is not a login path.
    if installed {
        sshd_config(files, out);
    }
    for port in &config.exposed_ports {
        if port == "22" || port == "22/tcp" {
            out.push(
                Finding::new(&rule::SSH_PORT_EXPOSED).evidence(format!("ExposedPorts {port}")),
            );
        }
    }
}

/// Where a setting was read.
#[derive(Clone)]
struct Setting {
    value: String,
    path: String,
    layer: usize,
    line: usize,
}

/// sshd's reading: the first value of a keyword wins; Match blocks apply conditionally.
#[derive(Default)]
struct Sshd {
    global: BTreeMap<String, Setting>,
    conditional: Vec<(String, Setting)>,
    included: usize,
}

fn sshd_config(files: &Overlay, out: &mut Vec<Finding>) {
    let Some(main) = text::read(files, "etc/ssh/sshd_config", out) else {
        return;
    };
    let mut sshd = Sshd::default();
    read(files, &main, 0, &mut sshd, out);
    let yes = |s: &Setting| s.value.eq_ignore_ascii_case("yes");
    let report = |rule, s: &Setting, key: &str, cond: &str| {
        Finding::new(rule)
            .at(&s.path, s.layer)
            .evidence(format!("{key} {} (line {}){cond}", s.value, s.line))
    };
    for (key, rule) in [
        ("permitrootlogin", &rule::SSH_ROOT_LOGIN),
        ("passwordauthentication", &rule::SSH_PASSWORD_AUTH),
        ("permitemptypasswords", &rule::SSH_EMPTY_PASSWORDS),
    ] {
        match sshd.global.get(key) {
            Some(s) if yes(s) => out.push(report(rule, s, key, "")),
            Some(_) => {}
            None if key == "passwordauthentication" => out.push(
                Finding::new(rule)
                    .at(main.path, main.layer)
                    .evidence("PasswordAuthentication unset (OpenSSH's default is yes)"),
            ),
            None => {}
        }
        for (_, s) in sshd.conditional.iter().filter(|(k, s)| k == key && yes(s)) {
            out.push(report(rule, s, key, " in a Match block"));
        }
    }
}

fn read(
    files: &Overlay,
    file: &TextFile<'_>,
    depth: usize,
    sshd: &mut Sshd,
    out: &mut Vec<Finding>,
) {
    let mut in_match = false;
    for (n, line) in text::lines(&file.text) {
        let (key, value) = split_keyword(line);
        let key = key.to_ascii_lowercase();
        if key == "match" {
            in_match = true;
        } else if key == "include" && depth < MAX_INCLUDE_DEPTH {
            for pattern in value.split_whitespace() {
                for path in include_paths(files, pattern) {
                    if sshd.included >= MAX_INCLUDED_FILES {
                        return;
                    }
                    sshd.included += 1;
                    if let Some(inner) = text::read(files, &path, out) {
                        read(files, &inner, depth + 1, sshd, out);
                    }
                }
            }
        } else {
            let s = Setting {
                value: value.to_owned(),
                path: file.path.to_owned(),
                layer: file.layer,
                line: n,
            };
            if in_match {
                sshd.conditional.push((key, s));
            } else {
                sshd.global.entry(key).or_insert(s);
            }
        }
    }
}

/// `Keyword value` or `Keyword=value`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    (key, rest.trim_matches('"'))
}

/// Gathered files an `Include` names: relative patterns are under etc/ssh; a `*` is
/// supported in the last component only (what distributions use: `sshd_config.d/*.conf`).
fn include_paths(files: &Overlay, pattern: &str) -> Vec<String> {
    let rel = match pattern.strip_prefix('/') {
        Some(abs) => abs.to_owned(),
        None => format!("etc/ssh/{pattern}"),
    };
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
    let dir = format!("{dir}/");
    let (before, after) = name.split_once('*').unwrap_or((name, ""));
    let glob = name.contains('*');
    files
        .under(&dir)
        .map(|(p, _)| p)
        .filter(|p| {
            let Some(base) = p.strip_prefix(dir.as_str()) else {
                return false;
            };
            !base.contains('/')
                && if glob {
                    base.len() >= before.len() + after.len()
                        && base.starts_with(before)
                        && base.ends_with(after)
                } else {
                    base == name
                }
        })
        .map(str::to_owned)
        .collect()
}
