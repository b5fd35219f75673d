//! setuid and setgid files, one finding each.

use crate::finding::{self as rule, Finding};
use ironroot_layers::Overlay;

/// Files distributions ship setuid/setgid in their base images (Debian, Ubuntu, Alpine,
/// UBI): still findings, since a container rarely needs them, but Low rather than Medium
/// because they are expected and well audited. Anything else (sudo, a vendor's helper, a
/// copied shell) is Medium.
const EXPECTED: &[&str] = &[
    "passwd",
    "chsh",
    "chfn",
    "gpasswd",
    "newgrp",
    "su",
    "mount",
    "umount",
    "chage",
    "expiry",
    "unix_chkpwd",
    "pam_timestamp_check",
    "ssh-keysign",
    "ssh-agent",
    "wall",
    "write",
    "crontab",
    "pkexec",
    "fusermount",
    "fusermount3",
    "newuidmap",
    "newgidmap",
    "dbus-daemon-launch-helper",
];

/// Directories those files live in; the same name elsewhere is not the distribution's.
const EXPECTED_DIRS: &[&str] = &[
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/lib/openssh",
    "usr/libexec/openssh",
    "usr/lib/dbus-1.0",
    "usr/libexec",
];

/// Type bits of a tar mode, when the writer included them: only regular files count (a
/// setgid directory such as var/mail is a different matter).
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;

pub(crate) fn check(files: &Overlay, out: &mut Vec<Finding>) {
    for (path, f) in files.under("") {
        let kind = f.mode & S_IFMT;
        if f.mode & 0o6000 == 0 || (kind != 0 && kind != S_IFREG) {
            continue;
        }
        let bits = match (f.mode & 0o4000 != 0, f.mode & 0o2000 != 0) {
            (true, true) => "setuid+setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        let rule = if is_expected(path) {
            &rule::SUID_EXPECTED
        } else {
            &rule::SUID_UNEXPECTED
        };
        out.push(Finding::new(rule).at(path, f.layer).evidence(format!(
            "{bits}, mode {:04o}, owner {}:{}",
            f.mode & 0o7777,
            f.uid,
            f.gid
        )));
    }
}

fn is_expected(path: &str) -> bool {
    path.rsplit_once('/')
        .is_some_and(|(dir, name)| EXPECTED_DIRS.contains(&dir) && EXPECTED.contains(&name))
}
