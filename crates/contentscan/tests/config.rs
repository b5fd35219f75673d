#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! User rules, allow-lists, redaction, size cap, `wants`, errors, and use from threads.

mod common;

use common::{builtin, rule_ids};
use ironroot_contentscan::{AllowEntry, Config, Error, RulesSource, Scanner, Session};

const GH: &str = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000";

fn with_rules(text: &str) -> Result<Scanner, Error> {
    let mut config = Config::default();
    config
        .secret_rules
        .push(RulesSource::new("mine.toml", text));
    Scanner::new(config)
}

fn secrets_only(text: &str) -> Result<Scanner, Error> {
    let mut config = Config::default();
    config.builtin = false;
    config
        .secret_rules
        .push(RulesSource::new("mine.toml", text));
    Scanner::new(config)
}

const ACME: &str = r#"
[[rule]]
id = "acme-api-key"
title = "ACME API key"
severity = "high"
keywords = ["acme_"]
regex = '''\b(?P<secret>acme_[0-9a-f]{32})\b'''
"#;

#[test]
fn user_secret_rule_is_found_and_listed() {
    let scanner = with_rules(ACME).unwrap();
    let data = format!("x\nkey = acme_{}\n", "0123456789abcdef".repeat(2));
    let findings = scanner.scan("srv/app.conf", data.as_bytes());
    assert_eq!(rule_ids(&findings), ["acme-api-key"]);
    assert_eq!(findings[0].line, Some(2));
    assert_eq!(findings[0].redacted, "acme…(37 chars)");
    let info = scanner
        .rules()
        .into_iter()
        .find(|r| r.id == "acme-api-key")
        .unwrap();
    assert_eq!(info.origin, "mine.toml");
    // Without its keyword the rule does not run; with a wrong value it does not match.
    assert!(scanner.scan("srv/a", b"key = ACME-123").is_empty());
}

#[test]
fn rule_without_keywords_runs_on_every_file() {
    let text = "[[rule]]\nid='hex-blob'\ntitle='t'\nseverity='low'\nregex='''[0-9a-f]{40}'''\n";
    let scanner = secrets_only(text).unwrap();
    let findings = scanner.scan("a", "da39a3ee5e6b4b0d3255bfef95601890afd80709".as_bytes());
    assert_eq!(rule_ids(&findings), ["hex-blob"]);
}

#[test]
fn scan_binary_rule_sees_binary_files_without_lines() {
    let text = "[[rule]]\nid='bin'\ntitle='t'\nseverity='low'\nkeywords=['MAGIC']\n\
                regex='''MAGIC[0-9]{4}'''\nscan_binary=true\n";
    let scanner = secrets_only(text).unwrap();
    let findings = scanner.scan("usr/bin/x", b"\0\0\0MAGIC1234\0");
    assert_eq!(rule_ids(&findings), ["bin"]);
    assert_eq!(findings[0].line, None);
}

#[test]
fn rule_paths_and_exclude_paths_restrict_where_it_runs() {
    let text = "[[rule]]\nid='p'\ntitle='t'\nseverity='low'\nkeywords=['tok_']\n\
                regex='''tok_[0-9]{6}'''\npaths=['etc/**']\nexclude_paths=['etc/skip/*']\n";
    let scanner = secrets_only(text).unwrap();
    assert_eq!(rule_ids(&scanner.scan("/etc/a/b", b"tok_123456")), ["p"]);
    assert!(scanner.scan("srv/a", b"tok_123456").is_empty());
    assert!(scanner.scan("etc/skip/a", b"tok_123456").is_empty());
}

#[test]
fn allow_list_suppresses_by_path_glob() {
    let text = "[[allow]]\ndescription='docs'\npaths=['usr/share/doc/**']\n";
    let scanner = with_rules(text).unwrap();
    let data = format!("token {GH}\n");
    assert!(scanner
        .scan("/usr/share/doc/app/README", data.as_bytes())
        .is_empty());
    assert_eq!(
        rule_ids(&scanner.scan("etc/app/README", data.as_bytes())),
        ["github-token"]
    );
}

#[test]
fn allow_list_suppresses_by_path_regex_and_rule() {
    let mut config = Config::default();
    config.allow.push(AllowEntry {
        rules: vec!["github-token".into()],
        path_regexes: vec![r"(^|/)tests?/fixtures/".into()],
        ..AllowEntry::default()
    });
    let scanner = Scanner::new(config).unwrap();
    let data = format!("{GH}\naws_access_key_id = AKIAFAKEFAKEFAKE2345\n");
    let findings = scanner.scan("srv/app/tests/fixtures/env", data.as_bytes());
    assert_eq!(
        rule_ids(&findings),
        ["aws-access-key-id"],
        "only the named rule is allowed"
    );
}

#[test]
fn allow_list_suppresses_by_value() {
    let text = "[[allow]]\nrules=['github-token']\nvalues=['''0000$''']\n";
    let scanner = with_rules(text).unwrap();
    assert!(scanner.scan("srv/.env", GH.as_bytes()).is_empty());
    let other = GH.replace("0000", "1111");
    assert_eq!(
        rule_ids(&scanner.scan("srv/.env", other.as_bytes())),
        ["github-token"]
    );
}

#[test]
fn allow_list_errors_are_clear() {
    let err = with_rules("[[allow]]\ndescription='everything'\n").unwrap_err();
    assert!(err.to_string().contains("would allow everything"), "{err}");
    let err = with_rules("[[allow]]\nrules=['github-tokn']\n").unwrap_err();
    assert!(err.to_string().contains("github-tokn"), "{err}");
    let err = with_rules("[[allow]]\npaths=['a/[']\n").unwrap_err();
    assert!(matches!(err, Error::InvalidAllow { .. }), "{err:?}");
}

#[test]
fn rules_file_errors_name_the_file_and_rule() {
    let err = with_rules("[[rule]]\nid='x'\n").unwrap_err();
    assert!(
        matches!(err, Error::RulesSyntax { ref file, .. } if file == "mine.toml"),
        "{err:?}"
    );
    let bad_regex = "[[rule]]\nid='x'\ntitle='t'\nseverity='low'\nregex='('\n";
    let err = with_rules(bad_regex).unwrap_err();
    assert!(
        matches!(err, Error::InvalidRule { ref rule, .. } if rule == "x"),
        "{err:?}"
    );
    let bad_id = "[[rule]]\nid='Bad Id'\ntitle='t'\nseverity='low'\nregex='x'\n";
    assert!(matches!(
        with_rules(bad_id).unwrap_err(),
        Error::InvalidRule { .. }
    ));
    let dup = "[[rule]]\nid='jwt'\ntitle='t'\nseverity='low'\nregex='x'\n";
    assert!(matches!(
        with_rules(dup).unwrap_err(),
        Error::DuplicateRule { .. }
    ));
}

#[test]
fn a_scanner_without_rules_is_refused() {
    let mut config = Config::default();
    config.builtin = false;
    assert!(matches!(
        Scanner::new(config).unwrap_err(),
        Error::Config(_)
    ));
}

#[test]
fn redaction_never_leaks_the_secret() {
    let aws_secret = "fakeFAKEfakeFAKEfakeFAKEfakeFAKEfake/+12";
    let db_pass = "S3cretFakePass";
    let data = format!(
        "{GH}\naws_secret_access_key = {aws_secret}\nurl: mysql://app:{db_pass}@db/x\n\
         password: {db_pass}\n"
    );
    let findings = builtin().scan("etc/app.yaml", data.as_bytes());
    assert_eq!(findings.len(), 4, "{findings:?}");
    let json = serde_json::to_string(&findings).unwrap();
    for secret in [GH, aws_secret, db_pass] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
        // Nor any long piece of it.
        assert!(
            !json.contains(&secret[..secret.len() / 2]),
            "{secret} half leaked: {json}"
        );
    }
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ec.pem"
    ))
    .unwrap();
    let json = serde_json::to_string(&builtin().scan("k.pem", key.as_bytes())).unwrap();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!json.contains(line), "key body leaked: {json}");
    }
}

#[test]
fn size_cap_is_respected() {
    let mut config = Config::default();
    config.max_bytes = 1024;
    let scanner = Scanner::new(config).unwrap();
    assert!(scanner.wants("a", 1024));
    assert!(!scanner.wants("a", 1025));
    assert!(!builtin().wants("a", 10 * 1024 * 1024 + 1));
    let mut early = format!("{GH}\n").into_bytes();
    early.resize(4096, b'\n');
    assert_eq!(rule_ids(&scanner.scan("a", &early)), ["github-token"]);
    let mut late = vec![b'\n'; 1024];
    late.extend_from_slice(GH.as_bytes());
    assert!(
        scanner.scan("a", &late).is_empty(),
        "bytes past the cap are not scanned"
    );
}

#[test]
fn findings_per_file_are_capped() {
    let mut config = Config::default();
    config.max_findings_per_file = 3;
    let scanner = Scanner::new(config).unwrap();
    let data = format!("{GH}\n").repeat(10);
    assert_eq!(scanner.scan("a", data.as_bytes()).len(), 3);
}

#[test]
fn wants_declines_wholly_allowed_paths_when_only_secrets_run() {
    let text = "[[rule]]\nid='p'\ntitle='t'\nseverity='low'\nkeywords=['k']\nregex='k'\n\
                [[allow]]\npaths=['usr/share/doc/**']\n";
    let scanner = secrets_only(text).unwrap();
    assert!(!scanner.wants("/usr/share/doc/a", 10));
    assert!(scanner.wants("etc/a", 10));
}

#[test]
fn sessions_scan_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
    let scanner = builtin();
    let data = format!("{GH}\n");
    std::thread::scope(|s| {
        for t in 0..4 {
            let data = &data;
            s.spawn(move || {
                let mut session: Session<'_> = scanner.session();
                for i in 0..25 {
                    let path = format!("t{t}/f{i}");
                    assert_eq!(
                        rule_ids(&session.scan(&path, data.as_bytes())),
                        ["github-token"]
                    );
                }
            });
        }
    });
}
