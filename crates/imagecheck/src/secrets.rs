//! Secrets in the image configuration's environment, reported without their values.

use crate::finding::{self as rule, Finding};
use crate::ImageConfig;

/// Parts of a variable name that say its value is a secret.
const SECRET_NAME_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
];

/// Value prefixes of credential formats, with the characters that must follow and how many.
/// (prefix, minimum length of what follows, name)
const TOKEN_PREFIXES: &[(&str, usize, &str)] = &[
    ("AKIA", 16, "AWS access key id"),
    ("ASIA", 16, "AWS temporary access key id"),
    ("ghp_", 36, "GitHub personal access token"),
    ("gho_", 36, "GitHub OAuth token"),
    ("ghu_", 36, "GitHub user-to-server token"),
    ("ghs_", 36, "GitHub server-to-server token"),
    ("ghr_", 36, "GitHub refresh token"),
    ("github_pat_", 22, "GitHub fine-grained token"),
    ("glpat-", 20, "GitLab personal access token"),
    ("xoxb-", 10, "Slack bot token"),
    ("xoxp-", 10, "Slack user token"),
    ("sk_live_", 16, "Stripe secret key"),
    ("AIza", 35, "Google API key"),
];

pub(crate) fn check(config: &ImageConfig, out: &mut Vec<Finding>) {
    for entry in &config.env {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        if value.is_empty() {
            continue;
        }
        if let Some(kind) = credential_kind(value) {
            out.push(
                Finding::new(&rule::ENV_SECRET_VALUE)
                    .evidence(format!("{name}={} ({kind})", redact(value))),
            );
        } else if secret_name(name) {
            out.push(
                Finding::new(&rule::ENV_SECRET_NAME).evidence(format!("{name}={}", redact(value))),
            );
        }
    }
}

fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // `*_FILE` names a file holding the secret (the official images' convention), and
    // `*_PATH` likewise: the value is not the secret.
    if upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

fn credential_kind(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("PEM private key");
    }
    TOKEN_PREFIXES.iter().find_map(|(prefix, len, kind)| {
        let rest = value.strip_prefix(prefix)?;
        let token_chars = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .count();
        (token_chars >= *len).then_some(*kind)
    })
}

/// Enough to recognise which secret it was, not enough to use it: the first 4 characters
/// of a long value (for tokens, their public prefix), and the length.
pub(crate) fn redact(value: &str) -> String {
    let len = value.chars().count();
    if len >= 16 {
        let head: String = value.chars().take(4).collect();
        format!("{head}… ({len} chars, redacted)")
    } else {
        format!("… ({len} chars, redacted)")
    }
}
