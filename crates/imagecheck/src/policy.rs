//! Password policy: aging and minimum length in etc/login.defs, the PAM password stack and
//! pwquality.conf. A file that is absent is not a finding (distroless and most minimal
//! images have no local logins at all); a setting absent from a present file is, where the
//! program's default is weak.

use crate::finding::{self as rule, Finding};
use crate::text;
use crate::Options;
use ironroot_layers::Overlay;

/// PAM files holding the password stack: Debian's, and Red Hat's two.
const PAM_FILES: &[&str] = &[
    "etc/pam.d/common-password",
    "etc/pam.d/system-auth",
    "etc/pam.d/password-auth",
];

/// pam_pwquality's built-in minlen (libpwquality), pam_cracklib's, pam_unix's.
const PWQUALITY_DEFAULT_MINLEN: u64 = 8;
const CRACKLIB_DEFAULT_MINLEN: u64 = 9;
const UNIX_DEFAULT_MINLEN: u64 = 6;

pub(crate) fn check(files: &Overlay, opts: &Options, out: &mut Vec<Finding>) {
    login_defs(files, opts, out);
    let pwquality_minlen = pwquality_conf(files, opts, out);
    for path in PAM_FILES {
        pam(files, path, pwquality_minlen, opts, out);
    }
}

fn login_defs(files: &Overlay, opts: &Options, out: &mut Vec<Finding>) {
    let Some(file) = text::read(files, "etc/login.defs", out) else {
        return;
    };
    let mut values = std::collections::BTreeMap::new();
    for (n, line) in text::lines(&file.text) {
        let mut words = line.split_whitespace();
        if let (Some(key), Some(value)) = (words.next(), words.next()) {
            // login.defs is read by several programs that each take the first value.
            values.entry(key).or_insert((value, n));
        }
    }
    let at = |f: Finding| f.at(file.path, file.layer);
    // A value that is not a number is as good as unset: shadow's tools ignore it.
    let number = |key: &str| {
        values
            .get(key)
            .map(|(v, n)| (v.parse::<u64>().ok(), *v, *n))
    };
    match number("PASS_MAX_DAYS") {
        Some((Some(days), _, _)) if days <= opts.max_password_age_days => {}
        Some((_, v, n)) => out.push(at(Finding::new(&rule::AGE_MAX_DAYS).evidence(format!(
            "PASS_MAX_DAYS {v} (line {n}); the limit is {}",
            opts.max_password_age_days
        )))),
        None => out.push(at(
            Finding::new(&rule::AGE_MAX_DAYS).evidence("PASS_MAX_DAYS unset (no expiry)")
        )),
    }
    match number("PASS_MIN_DAYS") {
        Some((Some(days), _, _)) if days >= opts.min_password_age_days => {}
        Some((_, v, n)) => out.push(at(Finding::new(&rule::AGE_MIN_DAYS).evidence(format!(
            "PASS_MIN_DAYS {v} (line {n}); the minimum is {}",
            opts.min_password_age_days
        )))),
        None => out.push(at(
            Finding::new(&rule::AGE_MIN_DAYS).evidence("PASS_MIN_DAYS unset (0)")
        )),
    }
    // PASS_MIN_LEN is obsolete where PAM checks length (Debian comments it out), so only a
    // value that is set and low is reported; PAM's own length is checked below.
    if let Some((len, v, n)) = number("PASS_MIN_LEN") {
        if len.is_none_or(|l| l < opts.min_password_length) {
            out.push(at(Finding::new(&rule::AGE_MIN_LEN).evidence(format!(
                "PASS_MIN_LEN {v} (line {n}); the minimum is {}",
                opts.min_password_length
            ))));
        }
    }
}

/// Reports a low `minlen` in pwquality.conf and returns the one it sets, if any.
fn pwquality_conf(files: &Overlay, opts: &Options, out: &mut Vec<Finding>) -> Option<u64> {
    let mut minlen = None;
    let paths: Vec<String> = std::iter::once("etc/security/pwquality.conf".to_owned())
        .chain(
            files
                .under("etc/security/pwquality.conf.d/")
                .map(|(p, _)| p.to_owned()),
        )
        .collect();
    for path in &paths {
        let Some(file) = text::read(files, path, out) else {
            continue;
        };
        for (n, line) in text::lines(&file.text) {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() != "minlen" {
                continue;
            }
            let value = value.trim();
            let parsed = value.parse::<u64>().ok();
            if parsed.is_none_or(|l| l < opts.min_password_length) {
                out.push(
                    Finding::new(&rule::PWQUALITY_MIN_LEN)
                        .at(path, file.layer)
                        .evidence(format!(
                            "minlen = {value} (line {n}); the minimum is {}",
                            opts.min_password_length
                        )),
                );
            }
            minlen = parsed.or(minlen);
        }
    }
    minlen
}

/// The password stack's effective minimum length is the strictest of its modules'.
fn pam(
    files: &Overlay,
    path: &str,
    pwquality_minlen: Option<u64>,
    opts: &Options,
    out: &mut Vec<Finding>,
) {
    let Some(file) = text::read(files, path, out) else {
        return;
    };
    let mut effective: Option<(u64, String)> = None;
    for (n, line) in text::lines(&file.text) {
        let mut words = line.split_whitespace();
        let kind = words.next().unwrap_or("").trim_start_matches('-');
        if kind != "password" {
            continue;
        }
        // The control is one word or a bracketed list of words; the module follows it.
        let mut rest = words;
        if rest
            .next()
            .is_some_and(|c| c.starts_with('[') && !c.ends_with(']'))
        {
            for w in rest.by_ref() {
                if w.ends_with(']') {
                    break;
                }
            }
        }
        let Some(module) = rest.next() else { continue };
        let module = module.rsplit('/').next().unwrap_or(module);
        let args: Vec<&str> = rest.collect();
        let explicit = args
            .iter()
            .find_map(|a| a.strip_prefix("minlen="))
            .map(|v| v.parse::<u64>().unwrap_or(0));
        let minlen = match module {
            "pam_pwquality.so" => explicit
                .or(pwquality_minlen)
                .unwrap_or(PWQUALITY_DEFAULT_MINLEN),
            "pam_cracklib.so" => explicit.unwrap_or(CRACKLIB_DEFAULT_MINLEN),
            "pam_unix.so" => explicit.unwrap_or(UNIX_DEFAULT_MINLEN),
            _ => continue,
        };
        let how = match explicit {
            Some(_) => format!("{module} minlen={minlen} (line {n})"),
            None => format!("{module} without minlen, default {minlen} (line {n})"),
        };
        if effective.as_ref().is_none_or(|(l, _)| minlen > *l) {
            effective = Some((minlen, how));
        }
    }
    if let Some((minlen, how)) = effective {
        if minlen < opts.min_password_length {
            out.push(
                Finding::new(&rule::PAM_MIN_LEN)
                    .at(path, file.layer)
                    .evidence(format!(
                        "{how}; the minimum is {}",
                        opts.min_password_length
                    )),
            );
        }
    }
}
