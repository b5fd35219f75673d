#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The image configuration (user, healthcheck, environment), setuid files, `wanted` and
//! the rule catalogue.

mod common;
use common::*;
use ironroot_imagecheck::{
    check, rules, wanted, Error, ImageConfig, Options, Severity, Want, MAX_CONFIG_BYTES,
};

const ROOT: &str = "IR-CFG-USER-001";
const UNKNOWN_USER: &str = "IR-CFG-USER-002";
const HEALTH: &str = "IR-CFG-HEALTH-001";
const SECRET_NAME: &str = "IR-CFG-ENV-001";
const SECRET_VALUE: &str = "IR-CFG-ENV-002";
const SUID: &str = "IR-CFG-SUID-001";
const SUID_EXPECTED: &str = "IR-CFG-SUID-002";

fn cfg(user: Option<&str>) -> ImageConfig {
    let mut c = quiet_config();
    c.user = user.map(str::to_owned);
    c
}

const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/sbin/nologin\n";

#[test]
fn parses_a_docker_shaped_config_and_ignores_unknown_fields() {
    let c = ImageConfig::from_oci_config_json(&fixture("config-postgres-like.json")).unwrap();
    assert_eq!(c.user.as_deref(), Some(""));
    assert_eq!(c.env.len(), 8);
    assert_eq!(c.healthcheck, None);
    assert_eq!(c.exposed_ports, ["22/tcp", "5432/tcp"]);
    let h = quiet_config();
    assert_eq!(h.user.as_deref(), Some("65532:65532"));
    assert_eq!(h.healthcheck.unwrap(), ["CMD", "/app", "health"]);
    // No config object, nulls: an empty configuration.
    let e = ImageConfig::from_oci_config_json(
        br#"{"config":{"User":null,"Env":null,"Healthcheck":null}}"#,
    )
    .unwrap();
    assert_eq!(e, ImageConfig::new());
    assert_eq!(
        ImageConfig::from_oci_config_json(b"{}").unwrap(),
        ImageConfig::new()
    );
}

#[test]
fn bad_config_json_is_a_typed_error() {
    assert!(matches!(
        ImageConfig::from_oci_config_json(b"\xff\x00garbage"),
        Err(Error::ConfigJson(_))
    ));
    assert!(matches!(
        ImageConfig::from_oci_config_json(br#"{"config":{"Env":"A=1"}}"#),
        Err(Error::ConfigJson(_))
    ));
    let huge = vec![b' '; MAX_CONFIG_BYTES + 1];
    assert_eq!(
        ImageConfig::from_oci_config_json(&huge),
        Err(Error::ConfigTooLarge {
            size: MAX_CONFIG_BYTES + 1,
            limit: MAX_CONFIG_BYTES
        })
    );
}

#[test]
fn root_users_are_found() {
    let files = with_files(&[("etc/passwd", PASSWD)]);
    for user in [
        None,
        Some(""),
        Some("root"),
        Some("0"),
        Some("0:0"),
        Some("root:staff"),
        Some("toor"),
    ] {
        let f = check(&files, &[], &cfg(user), &Options::default());
        let r = with_id(&f, ROOT);
        assert_eq!(r.len(), 1, "{user:?}");
        assert_eq!(r[0].severity, Severity::High);
    }
    let toor = check(&files, &[], &cfg(Some("toor")), &Options::default());
    assert!(with_id(&toor, ROOT)[0]
        .evidence
        .as_deref()
        .unwrap()
        .contains("uid 0 in etc/passwd"));
}

#[test]
fn non_root_users_are_fine() {
    let files = with_files(&[("etc/passwd", PASSWD)]);
    for user in ["1000", "65532:65532", "app", "app:app", "1000:0"] {
        let f = check(&files, &[], &cfg(Some(user)), &Options::default());
        assert!(
            with_id(&f, ROOT).is_empty() && with_id(&f, UNKNOWN_USER).is_empty(),
            "{user}"
        );
    }
    // A name the image does not know cannot be told apart from root.
    let f = check(
        &with_files(&[]),
        &[],
        &cfg(Some("app")),
        &Options::default(),
    );
    assert_eq!(with_id(&f, UNKNOWN_USER).len(), 1);
}

#[test]
fn healthcheck_missing_or_none() {
    let mut c = quiet_config();
    assert!(with_id(
        &check(&with_files(&[]), &[], &c, &Options::default()),
        HEALTH
    )
    .is_empty());
    c.healthcheck = Some(vec!["NONE".into()]);
    assert_eq!(
        evidence_of(
            &check(&with_files(&[]), &[], &c, &Options::default()),
            HEALTH
        ),
        ["Healthcheck disabled (NONE)"]
    );
    c.healthcheck = None;
    assert_eq!(
        with_id(
            &check(&with_files(&[]), &[], &c, &Options::default()),
            HEALTH
        )
        .len(),
        1
    );
}

#[test]
fn secrets_in_env_are_found_and_redacted() {
    let mut c = ImageConfig::from_oci_config_json(&fixture("config-postgres-like.json")).unwrap();
    c.env.push("SSH_KEY=-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----".into());
    c.env.push("CI_JOB=glpat-abcdefghijklmnopqrstu".into());
    c.env.push("API_TOKEN=short".into());
    let f = check(&with_files(&[]), &[], &c, &Options::default());
    let names = evidence_of(&f, SECRET_NAME);
    assert_eq!(
        names,
        [
            "POSTGRES_PASSWORD=Supe… (20 chars, redacted)",
            "API_TOKEN=… (5 chars, redacted)"
        ]
    );
    let values = evidence_of(&f, SECRET_VALUE);
    assert_eq!(values.len(), 3, "{values:?}");
    assert!(values
        .iter()
        .any(|v| v == "AWS_ACCESS_KEY_ID=AKIA… (20 chars, redacted) (AWS access key id)"));
    assert!(values
        .iter()
        .any(|v| v.starts_with("SSH_KEY=----") && v.ends_with("(PEM private key)")));
    assert!(values
        .iter()
        .any(|v| v.starts_with("CI_JOB=glpa") && v.contains("GitLab")));
    // No finding carries a secret.
    let all = format!("{f:?}");
    for secret in [
        "SuperSecretPassw0rd",
        "IOSFODNN7EXAMPLE",
        "b3BlbnNza",
        "abcdefghijklmnop",
        "short",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
}

#[test]
fn empty_file_and_ordinary_env_are_not_secrets() {
    let f = check(&with_files(&[]), &[], &quiet_config(), &Options::default());
    assert!(with_id(&f, SECRET_NAME).is_empty() && with_id(&f, SECRET_VALUE).is_empty());
}

#[test]
fn setuid_and_setgid_files_one_finding_each() {
    let mut o = with_files(&[]);
    o.put("usr/bin/passwd", file(0, 0o4755, None));
    o.put("usr/bin/chage", file(0, 0o2755, None));
    o.put("usr/local/bin/helper", file(2, 0o104755, None));
    o.put("tmp/passwd", file(2, 0o6755, None)); // the right name in the wrong place
    o.put("var/mail", file(0, 0o42775, None)); // a setgid directory, should the scanner pass one
    o.put("usr/bin/ls", file(0, 0o755, None));
    let f = run(&o, &[]);
    let mut unexpected: Vec<_> = with_id(&f, SUID)
        .iter()
        .map(|x| (x.path.clone().unwrap(), x.layer.unwrap()))
        .collect();
    unexpected.sort();
    assert_eq!(
        unexpected,
        [
            ("tmp/passwd".to_owned(), 2),
            ("usr/local/bin/helper".to_owned(), 2)
        ]
    );
    assert!(with_id(&f, SUID)
        .iter()
        .all(|x| x.severity == Severity::Medium));
    let expected = with_id(&f, SUID_EXPECTED);
    assert_eq!(expected.len(), 2);
    assert!(expected.iter().all(|x| x.severity == Severity::Low));
    assert!(evidence_of(&f, SUID_EXPECTED)
        .iter()
        .any(|e| e.starts_with("setgid, mode 2755")));
}

#[test]
fn wanted_gathers_only_what_the_checks_read() {
    assert_eq!(wanted("etc/shadow", 0o640, 900), Want::Content);
    assert_eq!(
        wanted("etc/ssh/sshd_config.d/50-cloud.conf", 0o644, 90),
        Want::Content
    );
    assert_eq!(
        wanted("etc/ssh/sshd_config.d/sub/x.conf", 0o644, 90),
        Want::Skip
    );
    assert_eq!(
        wanted("etc/shadow", 0o640, 2 << 20),
        Want::Metadata,
        "too big to read"
    );
    assert_eq!(wanted("usr/bin/sudo", 0o4755, 200_000), Want::Metadata);
    assert_eq!(wanted("usr/sbin/sshd", 0o755, 900_000), Want::Metadata);
    assert_eq!(
        wanted(
            "etc/systemd/system/multi-user.target.wants/ssh.service",
            0o777,
            0
        ),
        Want::Metadata
    );
    assert_eq!(
        wanted(
            "etc/systemd/system/multi-user.target.wants/cron.service",
            0o777,
            0
        ),
        Want::Skip
    );
    assert_eq!(wanted("usr/bin/ls", 0o755, 100), Want::Skip);
    assert_eq!(wanted("home/etc/shadow", 0o640, 100), Want::Skip);
}

#[test]
fn rule_catalogue_is_sorted_unique_and_complete() {
    let ids: Vec<&str> = rules().iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
    assert!(rules().iter().all(|r| r.id.starts_with("IR-CFG-")
        && !r.title.is_empty()
        && !r.description.is_empty()
        && !r.remediation.is_empty()));
    // Every finding of a noisy image comes from the catalogue, with its severity.
    let cfg = ImageConfig::from_oci_config_json(&fixture("config-postgres-like.json")).unwrap();
    let files = with_files(&[
        ("etc/shadow", &fixture("shadow-mixed")),
        ("etc/login.defs", &fixture("login.defs.debian12")),
    ]);
    let f = check(&files, &[], &cfg, &Options::default());
    assert!(f.len() >= 8);
    for x in &f {
        let r = rules().iter().find(|r| r.id == x.id).unwrap();
        assert_eq!((r.severity, r.title), (x.severity, x.title));
    }
    // Most severe first.
    assert!(f.windows(2).all(|w| w[0].severity >= w[1].severity));
    let json = serde_json::to_value(&f[0]).unwrap();
    assert_eq!(json["severity"], "critical");
}
