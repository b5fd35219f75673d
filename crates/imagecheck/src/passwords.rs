//! Account checks: empty passwords and hashes of well-known passwords in etc/shadow and
//! etc/passwd, with the guessing work bounded by [`crate::Options`].

use crate::accounts::{self, Account, PasswordField};
use crate::finding::{self as rule, Finding};
use crate::Options;
use ironroot_crypto::unix_crypt::{self as crypt, HashLimits};
use ironroot_layers::Overlay;

/// Passwords tried against every hash, after the account's own name; most common first, so
/// that a capped search still tries the likeliest. From default credentials of images and
/// appliances and the top of public breach-frequency lists.
pub const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "123456",
    "root",
    "toor",
    "admin",
    "changeme",
    "letmein",
    "qwerty",
    "12345678",
    "123456789",
    "12345",
    "1234",
    "111111",
    "000000",
    "123123",
    "abc123",
    "password1",
    "Password1",
    "passw0rd",
    "p@ssw0rd",
    "password123",
    "admin123",
    "root123",
    "qwerty123",
    "1q2w3e4r",
    "iloveyou",
    "welcome",
    "secret",
    "default",
    "test",
    "test123",
    "guest",
    "user",
    "pass",
    "login",
    "master",
    "monkey",
    "dragon",
    "trustno1",
    "sunshine",
    "administrator",
    "docker",
    "ubuntu",
    "debian",
    "centos",
    "alpine",
    "raspberry",
    "vagrant",
    "postgres",
    "mysql",
    "oracle",
    "temp",
];

/// Running budget of guessing work, shared by all accounts of an image.
struct Budget {
    left: u64,
}

pub(crate) fn check(files: &Overlay, opts: &Options, out: &mut Vec<Finding>) {
    let mut budget = Budget {
        left: opts.password_work_budget,
    };
    for (path, min_fields, uid_field, in_passwd) in [
        ("etc/shadow", 2, None, false),
        ("etc/passwd", 7, Some(2), true),
    ] {
        let Some(file) = files.get(path) else {
            continue;
        };
        let Some(bytes) = &file.content else {
            out.push(
                Finding::new(&rule::ACCOUNTS_UNREADABLE)
                    .at(path, file.layer)
                    .evidence(format!(
                        "content not gathered ({} bytes; the limit is {})",
                        file.size,
                        crate::want::MAX_CONTENT_BYTES
                    )),
            );
            continue;
        };
        let parsed = accounts::parse(bytes, min_fields, uid_field);
        if let Some(problem) = parsed.first_problem {
            out.push(
                Finding::new(&rule::ACCOUNTS_UNREADABLE)
                    .at(path, file.layer)
                    .evidence(format!(
                        "{} unreadable line(s), first at {problem}",
                        parsed.bad_lines
                    )),
            );
        }
        for account in &parsed.accounts {
            let at = |f: Finding| f.at(path, file.layer);
            match accounts::password_field(&account.password, in_passwd) {
                PasswordField::Empty => {
                    out.push(at(Finding::new(&rule::PWD_EMPTY).evidence(account.shown())))
                }
                PasswordField::Hash(hash) => {
                    if let Some(f) = guess(account, hash, opts, &mut budget) {
                        out.push(at(f));
                    }
                }
                PasswordField::Locked | PasswordField::InShadow => {}
            }
        }
    }
}

/// Tries the account's name and [`COMMON_PASSWORDS`] against `hash`, within the caps.
fn guess(account: &Account, hash: &str, opts: &Options, budget: &mut Budget) -> Option<Finding> {
    let who = account.shown();
    let limits = HashLimits {
        max_sha_crypt_rounds: opts.max_sha_crypt_rounds,
        max_yescrypt_memory: opts.max_yescrypt_memory,
    };
    let v = match crypt::classify(hash, &limits) {
        Ok(v) => v,
        Err(why) => {
            return Some(Finding::new(&rule::PWD_NOT_CHECKED).evidence(format!("{who}: {why}")))
        }
    };
    let candidates = std::iter::once(account.name.as_str()).chain(COMMON_PASSWORDS.iter().copied());
    let total = (1 + COMMON_PASSWORDS.len()).min(opts.max_guesses_per_account);
    for (tried, candidate) in candidates.take(total).enumerate() {
        if budget.left < v.cost {
            return Some(Finding::new(&rule::PWD_NOT_CHECKED).evidence(format!(
                "{who}: {} hash, work budget spent after {tried} of {total} guesses",
                v.scheme
            )));
        }
        budget.left -= v.cost;
        match crypt::matches(&v, hash, candidate.as_bytes()) {
            Ok(false) => {}
            // The well-known password is named: it is public by definition, and the
            // remediation needs to know which one was found.
            Ok(true) => {
                let what = if candidate == account.name {
                    "the account name"
                } else {
                    "a common password"
                };
                return Some(Finding::new(&rule::PWD_WELL_KNOWN).evidence(format!(
                    "{who}: {} hash of {what}, \"{candidate}\"",
                    v.scheme
                )));
            }
            Err(why) => {
                return Some(Finding::new(&rule::PWD_NOT_CHECKED).evidence(format!("{who}: {why}")))
            }
        }
    }
    None
}
