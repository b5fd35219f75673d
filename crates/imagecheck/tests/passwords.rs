#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Empty and well-known passwords, verified against hashes that mkpasswd and openssl made
//! (tests/fixtures/make-fixtures.sh).

mod common;
use common::*;
use ironroot_imagecheck::{Options, Severity};

const EMPTY: &str = "IR-CFG-PWD-001";
const KNOWN: &str = "IR-CFG-PWD-002";
const NOT_CHECKED: &str = "IR-CFG-PWD-003";
const UNREADABLE: &str = "IR-CFG-PWD-004";

fn shadow(bytes: &[u8]) -> Vec<ironroot_imagecheck::Finding> {
    run(&with_files(&[("etc/shadow", bytes)]), &[])
}

fn account_of(evidence: &str) -> &str {
    evidence.split_whitespace().nth(1).unwrap()
}

#[test]
fn sha512_and_sha256_hashes_of_common_passwords_and_names_are_found() {
    let f = shadow(&fixture("shadow-sha"));
    let known = evidence_of(&f, KNOWN);
    let mut accounts: Vec<&str> = known.iter().map(|e| account_of(e)).collect();
    accounts.sort();
    // root: changeme (openssl -6); alice: her own name; bob: toor at rounds=10000;
    // dave: admin (openssl -5). carol and erin have strong passwords.
    assert_eq!(accounts, ["alice", "bob", "dave", "root"]);
    assert!(known
        .iter()
        .any(|e| e.contains("sha512-crypt") && e.contains("\"changeme\"")));
    assert!(known
        .iter()
        .any(|e| e.contains("alice") && e.contains("the account name")));
    assert!(known
        .iter()
        .any(|e| e.contains("sha256-crypt") && e.contains("\"admin\"")));
    assert!(with_id(&f, KNOWN)
        .iter()
        .all(|x| x.severity == Severity::Critical
            && x.path.as_deref() == Some("etc/shadow")
            && x.layer == Some(0)));
    // The hash itself never reaches a finding.
    assert!(f
        .iter()
        .all(|x| !x.evidence.clone().unwrap_or_default().contains("$6$")));
    assert!(with_id(&f, NOT_CHECKED).is_empty());
}

#[test]
fn md5_crypt_hashes_are_verified() {
    let f = shadow(&fixture("shadow-md5"));
    let known = evidence_of(&f, KNOWN);
    assert_eq!(known.len(), 1, "{f:#?}");
    assert!(known[0].contains("account root") && known[0].contains("md5-crypt"));
}

#[test]
fn yescrypt_weak_found_and_strong_not_within_a_small_cap() {
    // yescrypt is slow on purpose (and slower unoptimized): a few guesses per account.
    let mut opts = Options::default();
    opts.max_guesses_per_account = 3;
    let f = run_with(
        &with_files(&[("etc/shadow", &fixture("shadow-yescrypt"))]),
        &opts,
    );
    let known = evidence_of(&f, KNOWN);
    assert_eq!(known.len(), 1, "{f:#?}");
    assert!(
        known[0].contains("account root")
            && known[0].contains("yescrypt")
            && known[0].contains("\"password\"")
    );
    assert!(with_id(&f, NOT_CHECKED).is_empty());
}

#[test]
fn work_budget_spent_is_reported_as_not_checked_never_as_fine() {
    let mut opts = Options::default();
    opts.password_work_budget = 5 * 3; // three sha-crypt guesses at 5,000 rounds
    let f = run_with(
        &with_files(&[("etc/shadow", &fixture("shadow-sha"))]),
        &opts,
    );
    let nc = evidence_of(&f, NOT_CHECKED);
    assert!(
        !nc.is_empty() && nc.iter().all(|e| e.contains("work budget spent")),
        "{nc:?}"
    );
    // root's password is its 7th guess: root spends the budget, so every one of the six
    // accounts is reported as not checked, none as fine.
    assert_eq!(nc.len(), 6);
    assert!(with_id(&f, KNOWN).is_empty());
}

#[test]
fn hashes_over_the_cost_caps_are_not_checked() {
    let mut opts = Options::default();
    opts.max_sha_crypt_rounds = 5_000; // bob's hash uses rounds=10000
    opts.max_yescrypt_memory = 1024 * 1024; // Debian's default needs 16 MiB
    let files = with_files(&[(
        "etc/shadow",
        &[fixture("shadow-sha"), fixture("shadow-yescrypt")].concat(),
    )]);
    let f = run_with(&files, &opts);
    let nc = evidence_of(&f, NOT_CHECKED);
    assert!(
        nc.iter()
            .any(|e| e.contains("account bob") && e.contains("rounds=10000 over the cap")),
        "{nc:?}"
    );
    assert!(
        nc.iter().filter(|e| e.contains("yescrypt needs")).count() == 2,
        "{nc:?}"
    );
}

#[test]
fn empty_locked_and_unknown_schemes() {
    let f = shadow(&fixture("shadow-mixed"));
    let empty = evidence_of(&f, EMPTY);
    assert_eq!(empty, ["account root (line 1)"]);
    let nc = evidence_of(&f, NOT_CHECKED);
    assert_eq!(nc.len(), 2, "{nc:?}");
    assert!(nc.iter().any(|e| e.contains("grace") && e.contains("$2b$")));
    assert!(nc
        .iter()
        .any(|e| e.contains("heidi") && e.contains("DES or other")));
    assert!(with_id(&f, NOT_CHECKED)
        .iter()
        .all(|x| x.severity == Severity::Info));
    // Locked accounts (`*`, `!`, `!<hash of changeme>`, `!*`) are fine.
    assert!(with_id(&f, KNOWN).is_empty());
    assert!(with_id(&f, UNREADABLE).is_empty());
}

#[test]
fn alpine_cve_2019_5021_root_without_password_is_critical() {
    let f = shadow(b"root:::0:::::\nbin:!::0:::::\n");
    let empty = with_id(&f, EMPTY);
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].severity, Severity::Critical);
}

#[test]
fn empty_password_in_passwd_is_found_and_x_defers_to_shadow() {
    let passwd = b"root::0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
    let f = run(&with_files(&[("etc/passwd", passwd)]), &[]);
    let empty = with_id(&f, EMPTY);
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].path.as_deref(), Some("etc/passwd"));
    assert!(empty[0]
        .evidence
        .as_deref()
        .unwrap()
        .contains("account root"));
}

#[test]
fn no_account_files_no_account_findings() {
    let f = run(&with_files(&[]), &[]);
    assert!(f.iter().all(|x| !x.id.starts_with("IR-CFG-PWD")));
}

#[test]
fn binary_garbage_non_utf8_and_huge_lines_are_reported_not_panicked_on() {
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    garbage.extend_from_slice(b"\nroot::0:0:99999:7:::\n");
    garbage.extend_from_slice(&vec![b'a'; 100_000]);
    garbage.extend_from_slice(b"\nlatin:\xe9t\xe9:0:::::\n");
    garbage.extend_from_slice(b"x:$6$rounds=abc$salt$hash:1::\n$y$:::\n");
    garbage.extend_from_slice(b"y:$y$j9T$$:1::\nz:$1$$:1::\nw:$6$salt$!!!:1::\n");
    let f = shadow(&garbage);
    let unreadable = evidence_of(&f, UNREADABLE);
    assert_eq!(unreadable.len(), 1, "{f:#?}");
    assert!(
        unreadable[0].contains("unreadable line(s), first at line 1"),
        "{unreadable:?}"
    );
    // The readable account among the garbage is still checked.
    assert!(evidence_of(&f, EMPTY)
        .iter()
        .any(|e| e.contains("account root")));
    // Malformed hashes are "not checked", never fine and never a panic.
    let nc = evidence_of(&f, NOT_CHECKED);
    for who in ["account x", "account y", "account z", "account w"] {
        assert!(nc.iter().any(|e| e.contains(who)), "{who}: {nc:?}");
    }
}

#[test]
fn shadow_without_content_is_reported() {
    let mut o = ironroot_layers::Overlay::new();
    let mut g = file(2, 0o640, None);
    g.size = 50 * 1024 * 1024;
    o.put("etc/shadow", g);
    let f = run(&o, &[]);
    let u = with_id(&f, UNREADABLE);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].layer, Some(2));
}
