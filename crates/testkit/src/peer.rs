//! What a test does when a real peer it needs (swtpm, tpm2-tools, PostgreSQL, SoftHSM2, the
//! registry, skopeo, podman, gpg, dpkg, rpm) is missing: the one place that decides (style
//! item 15). In CI a missing peer is a failure; on a developer's machine the test may skip,
//! and says so where the run's summary can count it.
//!
//! Environment:
//! - `IRONROOT_REQUIRE_PEERS=1` (set by `.ci/run`): a missing peer always fails the test.
//! - `IRONROOT_ALLOW_SKIP=1`: a developer allows skipping; without it a missing peer fails.
//! - `IRONROOT_SKIP_LOG=FILE`: every skip appends one line `BINARY::TEST: WHAT` to FILE, so
//!   a run's closing line can count skipped tests as skipped rather than passed.

use std::io::Write;

/// Call where a test finds that a peer is missing, then return from the test (or hand back
/// `None` to it). Panics, failing the test, unless skipping is allowed; otherwise records the
/// skip and prints `SKIPPED` on stderr. `what` says what is missing and how to get it, e.g.
/// "swtpm is not installed (apt-get install swtpm)".
// Failing the calling test is the point of this function.
#[allow(clippy::panic)]
pub fn skip_missing_peer(what: &str) {
    let log = std::env::var_os("IRONROOT_SKIP_LOG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let policy = skip_policy(
        env_is_1("IRONROOT_REQUIRE_PEERS"),
        env_is_1("IRONROOT_ALLOW_SKIP"),
    );
    if let Err(why) = skip_or_fail(policy, log.as_deref(), &test_name(), what) {
        panic!("{why}");
    }
}

/// What `skip_missing_peer` does, without the environment: `Err` is the failure message.
fn skip_or_fail(
    policy: SkipPolicy,
    log: Option<&std::path::Path>,
    test: &str,
    what: &str,
) -> Result<(), String> {
    match policy {
        SkipPolicy::Required => Err(format!(
            "{test}: {what}. IRONROOT_REQUIRE_PEERS=1 requires every peer: \
             run scripts/install-deps.sh (make test does)"
        )),
        SkipPolicy::NotAllowed => Err(format!(
            "{test}: {what}. Run `make test` (it installs every peer), or set \
             IRONROOT_ALLOW_SKIP=1 to skip on a developer machine"
        )),
        SkipPolicy::Skip => {
            eprintln!("SKIPPED {test}: {what} (IRONROOT_ALLOW_SKIP=1)");
            let Some(log) = log else { return Ok(()) };
            // One write of a short line in append mode: concurrent tests do not interleave.
            let line = format!("{}\n", skip_line(test, what));
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .and_then(|mut f| f.write_all(line.as_bytes()))
                .map_err(|e| format!("{test}: cannot record the skip in {}: {e}", log.display()))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum SkipPolicy {
    Required,
    NotAllowed,
    Skip,
}

fn skip_policy(require_peers: bool, allow_skip: bool) -> SkipPolicy {
    match (require_peers, allow_skip) {
        (true, _) => SkipPolicy::Required,
        (false, false) => SkipPolicy::NotAllowed,
        (false, true) => SkipPolicy::Skip,
    }
}

fn env_is_1(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// One line per skipped test; a newline in `what` would split it, so it is flattened.
fn skip_line(test: &str, what: &str) -> String {
    format!("{test}: {}", what.replace(['\n', '\r'], " "))
}

/// `BINARY::TEST`: the test binary's name without cargo's hash suffix, and the test's name,
/// which libtest gives the thread running it.
fn test_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("test");
    let binary = strip_hash(stem);
    match std::thread::current().name() {
        Some(t) if t != "main" => format!("{binary}::{t}"),
        _ => binary.to_owned(),
    }
}

/// `pkcs11-0123456789abcdef` → `pkcs11`.
fn strip_hash(stem: &str) -> &str {
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_peers_wins_over_allow_skip() {
        assert_eq!(skip_policy(true, true), SkipPolicy::Required);
        assert_eq!(skip_policy(true, false), SkipPolicy::Required);
        assert_eq!(skip_policy(false, false), SkipPolicy::NotAllowed);
        assert_eq!(skip_policy(false, true), SkipPolicy::Skip);
    }

    #[test]
    fn cargo_hash_is_stripped_from_the_binary_name() {
        assert_eq!(strip_hash("pkcs11-0123456789abcdef"), "pkcs11");
        assert_eq!(strip_hash("sign-lab"), "sign-lab");
        assert_eq!(
            strip_hash("ironroot_testkit-89ab89ab89ab89ab"),
            "ironroot_testkit"
        );
    }

    #[test]
    fn the_test_name_is_the_running_test() {
        let name = test_name();
        assert!(
            name.ends_with("::peer::tests::the_test_name_is_the_running_test"),
            "{name}"
        );
    }

    #[test]
    fn skips_are_appended_to_the_log_and_refusals_say_why() {
        let dir = std::env::temp_dir().join(format!("ironroot-skiplog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("skips");
        let _ = std::fs::remove_file(&log);
        skip_or_fail(SkipPolicy::Skip, Some(&log), "b::one", "swtpm is missing").unwrap();
        skip_or_fail(SkipPolicy::Skip, Some(&log), "b::two", "rpm is missing").unwrap();
        skip_or_fail(SkipPolicy::Skip, None, "b::three", "not logged").unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "b::one: swtpm is missing\nb::two: rpm is missing\n"
        );
        let required = skip_or_fail(SkipPolicy::Required, Some(&log), "b::t", "gpg").unwrap_err();
        assert!(required.contains("IRONROOT_REQUIRE_PEERS=1"), "{required}");
        let not_allowed = skip_or_fail(SkipPolicy::NotAllowed, None, "b::t", "gpg").unwrap_err();
        assert!(not_allowed.starts_with("b::t: gpg. "), "{not_allowed}");
        assert!(
            not_allowed.contains("IRONROOT_ALLOW_SKIP=1"),
            "{not_allowed}"
        );
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_skip_is_one_line() {
        assert_eq!(skip_line("b::t", "swtpm\nmissing"), "b::t: swtpm missing");
    }
}
