#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Remote login: SSH servers installed, enabled, and their configuration.

mod common;
use common::*;
use ironroot_imagecheck::{check, ImageConfig, Options};
use ironroot_pkgdb::{Ecosystem, Package};

const INSTALLED: &str = "IR-CFG-SSH-001";
const ENABLED: &str = "IR-CFG-SSH-002";
const ROOT: &str = "IR-CFG-SSH-003";
const PASSWORD: &str = "IR-CFG-SSH-004";
const EMPTY: &str = "IR-CFG-SSH-005";
const PORT: &str = "IR-CFG-SSH-006";

fn server() -> Vec<Package> {
    vec![Package::new(
        Ecosystem::Dpkg,
        "openssh-server",
        "1:9.2p1-2+deb12u3",
    )]
}

#[test]
fn server_packages_are_found_and_client_packages_are_not() {
    let f = run(&with_files(&[]), &server());
    assert_eq!(
        evidence_of(&f, INSTALLED),
        ["package openssh-server 1:9.2p1-2+deb12u3"]
    );
    let apk = run(
        &with_files(&[]),
        &[Package::new(Ecosystem::Apk, "openssh", "9.7_p1-r4")],
    );
    assert_eq!(with_id(&apk, INSTALLED).len(), 1);
    let clients = [
        Package::new(Ecosystem::Rpm, "openssh", "8.7p1-38.el9"),
        Package::new(Ecosystem::Dpkg, "openssh-client", "1:9.2p1-2"),
    ];
    assert!(with_id(&run(&with_files(&[]), &clients), INSTALLED).is_empty());
    assert!(
        with_id(
            &run(
                &with_files(&[]),
                &[Package::new(Ecosystem::Apk, "dropbear", "2024.85-r0")]
            ),
            INSTALLED
        )
        .len()
            == 1
    );
}

#[test]
fn server_binary_without_package_is_found() {
    let mut o = with_files(&[]);
    o.put("usr/sbin/dropbear", file(3, 0o755, None));
    let f = run(&o, &[]);
    let i = with_id(&f, INSTALLED);
    assert_eq!(i.len(), 1);
    assert_eq!(
        (i[0].path.as_deref(), i[0].layer),
        (Some("usr/sbin/dropbear"), Some(3))
    );
}

#[test]
fn enablement_links_of_systemd_sysv_and_openrc() {
    let mut o = with_files(&[]);
    for p in [
        "etc/systemd/system/multi-user.target.wants/ssh.service",
        "etc/systemd/system/sockets.target.wants/ssh.socket",
        "etc/rc2.d/S01ssh",
        "etc/runlevels/default/sshd",
    ] {
        o.put(p, file(1, 0o777, None));
    }
    // Not enablement: the unit itself, an init script, a K(ill) link, other services.
    for p in [
        "lib/systemd/system/ssh.service",
        "etc/init.d/ssh",
        "etc/rc0.d/K01ssh",
        "etc/systemd/system/multi-user.target.wants/cron.service",
    ] {
        o.put(p, file(1, 0o777, None));
    }
    let f = run(&o, &[]);
    let mut paths: Vec<_> = with_id(&f, ENABLED)
        .iter()
        .map(|x| x.path.clone().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "etc/rc2.d/S01ssh",
            "etc/runlevels/default/sshd",
            "etc/systemd/system/multi-user.target.wants/ssh.service",
            "etc/systemd/system/sockets.target.wants/ssh.socket",
        ]
    );
}

#[test]
fn debian_default_sshd_config_allows_passwords_by_default_only() {
    let f = run(
        &with_files(&[("etc/ssh/sshd_config", &fixture("sshd_config.debian12"))]),
        &server(),
    );
    assert_eq!(
        evidence_of(&f, PASSWORD),
        ["PasswordAuthentication unset (OpenSSH's default is yes)"]
    );
    assert!(with_id(&f, ROOT).is_empty() && with_id(&f, EMPTY).is_empty());
}

#[test]
fn hardened_sshd_config_has_no_config_findings() {
    let f = run(
        &with_files(&[("etc/ssh/sshd_config", &fixture("sshd_config.hardened"))]),
        &server(),
    );
    for id in [ROOT, PASSWORD, EMPTY] {
        assert!(with_id(&f, id).is_empty(), "{id}: {f:#?}");
    }
}

#[test]
fn a_drop_in_included_first_overrides_the_hardened_main_file() {
    let files = with_files(&[
        ("etc/ssh/sshd_config", &fixture("sshd_config.hardened")),
        (
            "etc/ssh/sshd_config.d/50-cloud.conf",
            &fixture("sshd_config.d-50-cloud.conf"),
        ),
        (
            "etc/ssh/sshd_config.d/README",
            b"PermitEmptyPasswords yes\n",
        ),
    ]);
    let f = run(&files, &server());
    let root = with_id(&f, ROOT);
    assert_eq!(root.len(), 1);
    assert_eq!(
        root[0].path.as_deref(),
        Some("etc/ssh/sshd_config.d/50-cloud.conf")
    );
    assert_eq!(with_id(&f, PASSWORD).len(), 1);
    // README does not match *.conf.
    assert!(with_id(&f, EMPTY).is_empty());
}

#[test]
fn weak_sshd_config_gives_one_finding_per_setting() {
    let f = run(
        &with_files(&[("etc/ssh/sshd_config", &fixture("sshd_config.weak"))]),
        &server(),
    );
    assert_eq!(evidence_of(&f, ROOT), ["permitrootlogin yes (line 2)"]);
    assert_eq!(
        evidence_of(&f, EMPTY),
        ["permitemptypasswords yes (line 4)"]
    );
    // Globally `no`; yes only for one Match block, still reported.
    assert_eq!(
        evidence_of(&f, PASSWORD),
        ["passwordauthentication yes (line 6) in a Match block"]
    );
}

#[test]
fn sshd_config_without_a_server_is_ignored() {
    let f = run(
        &with_files(&[("etc/ssh/sshd_config", &fixture("sshd_config.weak"))]),
        &[],
    );
    assert!(f.iter().all(|x| !x.id.starts_with("IR-CFG-SSH")), "{f:#?}");
}

#[test]
fn include_loops_and_garbage_do_not_hang_or_panic() {
    let files = with_files(&[
        (
            "etc/ssh/sshd_config",
            b"Include sshd_config\nInclude /etc/ssh/*\nPermitRootLogin yes\n",
        ),
        ("etc/ssh/x", &[0xff, 0xfe, b'\n', 0, 0, b'=', b'\n']),
    ]);
    let f = run(&files, &server());
    assert!(!with_id(&f, ROOT).is_empty());
}

#[test]
fn exposed_port_22() {
    let cfg = ImageConfig::from_oci_config_json(&fixture("config-postgres-like.json")).unwrap();
    let f = check(&with_files(&[]), &[], &cfg, &Options::default());
    assert_eq!(evidence_of(&f, PORT), ["ExposedPorts 22/tcp"]);
    assert!(with_id(&run(&with_files(&[]), &[]), PORT).is_empty());
}
