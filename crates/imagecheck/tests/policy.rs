#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Password aging and length: login.defs, PAM and pwquality.conf.

mod common;
use common::*;
use ironroot_imagecheck::Options;

const MAX_DAYS: &str = "IR-CFG-AGE-001";
const MIN_DAYS: &str = "IR-CFG-AGE-002";
const MIN_LEN: &str = "IR-CFG-AGE-003";
const PAM: &str = "IR-CFG-PWQ-001";
const PWQ: &str = "IR-CFG-PWQ-002";
const NOT_READ: &str = "IR-CFG-FILE-001";

const GOOD_DEFS: &[u8] = b"# hardened\nPASS_MAX_DAYS\t90\nPASS_MIN_DAYS 1\nPASS_MIN_LEN 12\n";

#[test]
fn debian_default_login_defs_never_expires_and_allows_immediate_change() {
    let f = run(
        &with_files(&[("etc/login.defs", &fixture("login.defs.debian12"))]),
        &[],
    );
    let max = evidence_of(&f, MAX_DAYS);
    assert_eq!(max.len(), 1);
    assert!(max[0].starts_with("PASS_MAX_DAYS 99999 (line "), "{max:?}");
    assert!(evidence_of(&f, MIN_DAYS)[0].starts_with("PASS_MIN_DAYS 0"));
    // Debian comments PASS_MIN_LEN out: not reported from login.defs.
    assert!(with_id(&f, MIN_LEN).is_empty());
}

#[test]
fn hardened_login_defs_passes() {
    let f = run(&with_files(&[("etc/login.defs", GOOD_DEFS)]), &[]);
    for id in [MAX_DAYS, MIN_DAYS, MIN_LEN] {
        assert!(with_id(&f, id).is_empty(), "{id}");
    }
}

#[test]
fn missing_and_short_settings_and_options_change_the_thresholds() {
    let f = run(
        &with_files(&[("etc/login.defs", b"PASS_MIN_LEN 5\nPASS_MAX_DAYS never\n")]),
        &[],
    );
    assert_eq!(evidence_of(&f, MIN_DAYS), ["PASS_MIN_DAYS unset (0)"]);
    assert_eq!(evidence_of(&f, MIN_LEN).len(), 1);
    assert!(evidence_of(&f, MAX_DAYS)[0].starts_with("PASS_MAX_DAYS never"));
    let mut opts = Options::default();
    opts.max_password_age_days = 60;
    opts.min_password_length = 14;
    let f = run_with(&with_files(&[("etc/login.defs", GOOD_DEFS)]), &opts);
    assert_eq!(with_id(&f, MAX_DAYS).len(), 1);
    assert_eq!(with_id(&f, MIN_LEN).len(), 1);
}

#[test]
fn no_login_defs_no_findings() {
    let f = run(&with_files(&[]), &[]);
    assert!(f
        .iter()
        .all(|x| !x.id.starts_with("IR-CFG-AGE") && !x.id.starts_with("IR-CFG-PWQ")));
}

#[test]
fn debian_default_pam_stack_is_pam_unix_with_its_default_of_6() {
    let f = run(
        &with_files(&[(
            "etc/pam.d/common-password",
            &fixture("common-password.debian12"),
        )]),
        &[],
    );
    let e = evidence_of(&f, PAM);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("pam_unix.so without minlen, default 6"),
        "{e:?}"
    );
}

#[test]
fn pam_pwquality_sets_the_effective_length() {
    let stack = b"password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so obscure use_authtok yescrypt\n";
    let f = run(&with_files(&[("etc/pam.d/common-password", stack)]), &[]);
    assert!(
        with_id(&f, PAM).is_empty(),
        "pwquality's default is 8: {f:#?}"
    );
    let weak = b"-password requisite /lib/security/pam_cracklib.so minlen=6\npassword sufficient pam_unix.so minlen=4\n";
    let f = run(&with_files(&[("etc/pam.d/system-auth", weak)]), &[]);
    assert_eq!(
        evidence_of(&f, PAM),
        ["pam_cracklib.so minlen=6 (line 1); the minimum is 8"]
    );
    // pwquality.conf lowers pam_pwquality's length, and is reported itself.
    let f = run(
        &with_files(&[
            (
                "etc/pam.d/password-auth",
                b"password requisite pam_pwquality.so\n",
            ),
            ("etc/security/pwquality.conf", b"# minlen = 8\nminlen = 6\n"),
        ]),
        &[],
    );
    assert_eq!(with_id(&f, PAM).len(), 1);
    assert_eq!(
        evidence_of(&f, PWQ),
        ["minlen = 6 (line 2); the minimum is 8"]
    );
    let f = run(
        &with_files(&[("etc/security/pwquality.conf", b"minlen = 14\n")]),
        &[],
    );
    assert!(with_id(&f, PWQ).is_empty());
}

#[test]
fn oversized_policy_file_is_reported_as_not_read() {
    let mut o = with_files(&[]);
    let mut g = file(4, 0o644, None);
    g.size = 5 << 20;
    o.put("etc/login.defs", g);
    let f = run(&o, &[]);
    assert_eq!(with_id(&f, NOT_READ).len(), 1);
    assert!(with_id(&f, MAX_DAYS).is_empty());
}

#[test]
fn garbage_policy_files_do_not_panic() {
    let junk: Vec<u8> = (0..50_000u32).map(|i| (i * 7919 % 256) as u8).collect();
    let f = run(
        &with_files(&[
            ("etc/login.defs", &junk),
            ("etc/pam.d/common-password", &junk),
            ("etc/security/pwquality.conf", &junk),
            (
                "etc/pam.d/system-auth",
                b"password [a\npassword\n[\npassword x pam_unix.so minlen=\n",
            ),
        ]),
        &[],
    );
    assert_eq!(with_id(&f, MAX_DAYS).len(), 1);
}
