#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every built-in secret rule has a positive case (found, with the right line) and negative
//! cases (look-alikes that are not secrets). Tokens are fake but well-formed (fixtures/README.md).

mod common;

use common::{builtin, rule_ids};

/// (rule id, path, content that must produce that rule's finding)
fn positives() -> Vec<(&'static str, &'static str, String)> {
    let fixture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    vec![
        ("private-key", "root/.ssh/id_ed25519", fixture("id_ed25519")),
        ("private-key", "etc/ssl/private/rsa.pem", fixture("rsa-pkcs8.pem")),
        ("private-key", "etc/ssl/private/rsa-trad.pem", fixture("rsa-traditional.pem")),
        ("private-key", "etc/ssl/private/ec.pem", fixture("ec.pem")),
        ("private-key", "etc/ssl/private/dsa.pem", fixture("dsa.pem")),
        ("private-key", "srv/enc.pem", fixture("encrypted-pkcs8.pem")),
        ("pgp-private-key", "root/secret.asc", fixture("pgp-private.asc")),
        ("aws-access-key-id", "root/.aws/credentials", "aws_access_key_id = AKIAFAKEFAKEFAKE2345\n".into()),
        ("aws-access-key-id", "srv/env", "KEY=ASIAFAKEFAKEFAKE7777\n".into()),
        (
            "aws-secret-access-key",
            "root/.aws/credentials",
            "aws_secret_access_key = fakeFAKEfakeFAKEfakeFAKEfakeFAKEfake/+12\n".into(),
        ),
        (
            "aws-secret-access-key",
            "srv/creds.json",
            r#"{"SecretAccessKey": "fakeFAKEfakeFAKEfakeFAKEfakeFAKEfake/+12"}"#.into(),
        ),
        ("github-token", "srv/.env", "GH=ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000\n".into()),
        ("github-token", "srv/.env", "GH=gho_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000\n".into()),
        (
            "github-fine-grained-pat",
            "srv/.env",
            format!("T=github_pat_11FAKE{}_{}\n", "0".repeat(16), "F".repeat(59)),
        ),
        ("gitlab-pat", "srv/.env", "T=glpat-FAKEfakeFAKEfake1234\n".into()),
        ("slack-token", "srv/.env", "T=xoxb-1234567890-1234567890-FAKEfakeFAKEfakeFAKEfake\n".into()),
        ("google-api-key", "srv/app.js", "key: 'AIzaFAKEfakeFAKEfakeFAKEfakeFAKEfake123'\n".into()),
        ("stripe-secret-key", "srv/.env", "STRIPE=sk_live_FAKEfakeFAKEfakeFAKEfake\n".into()),
        ("npm-token", "root/.npmrc", "t=npm_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234\n".into()),
        ("npmrc-auth-token", "root/.npmrc", "//registry.npmjs.org/:_authToken=FAKEfake-1234-abcd\n".into()),
        (
            "jwt",
            "srv/token.txt",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake\n".into(),
        ),
        (
            "database-url-password",
            "srv/app.yaml",
            "url: postgres://app:S3cretFakePass@db.internal:5432/app\n".into(),
        ),
        ("database-url-password", "srv/.env", "REDIS=redis://:FakeRedisPw@cache:6379/0\n".into()),
        ("password-in-config", "etc/app/app.ini", "[db]\npassword = FakeHunter2Pass\n".into()),
        ("password-in-config", "etc/app/app.yaml", "db:\n  passwd: FakeHunter2Pass\n".into()),
        ("password-in-config", "etc/app/app.json", "{\"db_password\": \"FakeHunter2Pass\", \"x\": 1}\n".into()),
    ]
}

#[test]
fn every_builtin_secret_rule_finds_its_positive_case() {
    let scanner = builtin();
    let cases = positives();
    for (rule, path, content) in &cases {
        let findings = scanner.scan(path, content.as_bytes());
        assert!(
            rule_ids(&findings).contains(rule),
            "{rule} not found in {path}: {findings:?}"
        );
    }
    // Every built-in secret rule is covered by a positive case.
    for info in scanner.rules() {
        if info.category == ironroot_contentscan::Category::Secret {
            assert!(
                cases.iter().any(|(r, _, _)| *r == info.id),
                "no positive case for {}",
                info.id
            );
        }
    }
}

#[test]
fn findings_carry_line_title_and_severity() {
    let text = "# config\n\nGH=ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000\n";
    let findings = builtin().scan("./srv/.env", text.as_bytes());
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.line, Some(3));
    assert_eq!(f.path, "srv/.env");
    assert_eq!(f.title, "GitHub token");
    assert_eq!(f.severity, ironroot_contentscan::Severity::Critical);
    assert_eq!(f.redacted, "ghp_…(40 chars)");
}

/// (rule id that must NOT be reported, path, content)
fn negatives() -> Vec<(&'static str, &'static str, String)> {
    let fixture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    vec![
        (
            "private-key",
            "etc/ssl/certs/rsa.pem",
            fixture("rsa-public.pem"),
        ),
        (
            "private-key",
            "root/.ssh/id_ed25519.pub",
            fixture("id_ed25519.pub"),
        ),
        (
            "private-key",
            "usr/lib/x.js",
            "const H = \"-----BEGIN RSA PRIVATE KEY-----\";\n".into(),
        ),
        (
            "pgp-private-key",
            "root/public.asc",
            fixture("pgp-public.asc"),
        ),
        (
            "aws-access-key-id",
            "srv/env",
            "KEY=AKIAFAKEFAKEFAKE234\n".into(),
        ),
        (
            "aws-access-key-id",
            "srv/env",
            "KEY=akiafakefakefake2345\n".into(),
        ),
        (
            "aws-access-key-id",
            "usr/lib/botocore/doc.txt",
            "AKIAIOSFODNN7EXAMPLE\n".into(),
        ),
        (
            "aws-secret-access-key",
            "srv/env",
            "aws_secret_access_key = tooShortFAKEfake\n".into(),
        ),
        (
            "aws-secret-access-key",
            "srv/env",
            "fakeFAKEfakeFAKEfakeFAKEfakeFAKEfake/+12\n".into(),
        ),
        (
            "aws-secret-access-key",
            "srv/env",
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n".into(),
        ),
        (
            "github-token",
            "srv/.env",
            "GH=ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake000\n".into(),
        ),
        (
            "github-fine-grained-pat",
            "srv/.env",
            "T=github_pat_11FAKE\n".into(),
        ),
        ("gitlab-pat", "srv/.env", "T=glpat-FAKE\n".into()),
        ("slack-token", "srv/.env", "T=xoxb-123\n".into()),
        (
            "google-api-key",
            "srv/app.js",
            "key: 'AIzaFAKEfake'\n".into(),
        ),
        (
            "stripe-secret-key",
            "srv/.env",
            "STRIPE=sk_test_FAKEfakeFAKEfakeFAKEfake\n".into(),
        ),
        ("npm-token", "root/.npmrc", "t=npm_FAKE\n".into()),
        (
            "npmrc-auth-token",
            "root/.npmrc",
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n".into(),
        ),
        (
            "jwt",
            "srv/token.txt",
            "header eyJhbGciOiJIUzI1NiJ9 only\n".into(),
        ),
        (
            "database-url-password",
            "srv/app.yaml",
            "url: postgres://db.internal:5432/app\n".into(),
        ),
        (
            "database-url-password",
            "srv/app.yaml",
            "url: postgres://app:${DB_PASS}@db/app\n".into(),
        ),
        (
            "password-in-config",
            "etc/app/app.ini",
            "password = ${DB_PASSWORD}\n".into(),
        ),
        (
            "password-in-config",
            "etc/app/app.ini",
            "password = %(db_password)s\n".into(),
        ),
        (
            "password-in-config",
            "etc/app/app.ini",
            "password = none\n".into(),
        ),
        (
            "password-in-config",
            "etc/app/run.sh",
            "password = getpass()\n".into(),
        ),
        (
            "password-in-config",
            "usr/lib/python3/x.py",
            "password = \"FakeHunter2Pass\"\n".into(),
        ),
        (
            "password-in-config",
            "usr/share/doc/app/README",
            "password = FakeHunter2Pass\n".into(),
        ),
        (
            "password-in-config",
            "etc/nsswitch.conf",
            "passwd:         files\n".into(),
        ),
        (
            "password-in-config",
            "etc/app.yaml",
            "passwd: files systemd\n".into(),
        ),
    ]
}

#[test]
fn look_alikes_are_not_reported() {
    let scanner = builtin();
    for (rule, path, content) in negatives() {
        let findings = scanner.scan(path, content.as_bytes());
        assert!(
            !rule_ids(&findings).contains(&rule),
            "{rule} wrongly found in {path}: {findings:?}"
        );
    }
}

#[test]
fn binary_files_are_skipped_by_secret_rules() {
    let mut data = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    data.extend_from_slice(b"GH=ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000\n");
    assert!(builtin().scan("usr/bin/app", &data).is_empty());
    // The same bytes without the NUL are text and are reported.
    let text = &data[10..];
    assert_eq!(
        rule_ids(&builtin().scan("usr/bin/app", text)),
        ["github-token"]
    );
}
