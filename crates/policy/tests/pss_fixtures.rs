//! Conformance with the Pod Security Standards' own fixtures: every pass and fail fixture
//! of `k8s.io/pod-security-admission` v0.37.2 (`test/testdata/{baseline,restricted}/v1.N`),
//! for every version from v1.0 to v1.37, gets the same verdict here. A `fail` fixture fails
//! the level at that version; a `pass` fixture passes it. The fixtures are found (and
//! downloaded into Go's module cache when missing) by `scripts/pss-fixtures.sh`; without
//! them the test fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_policy::pss::{self, Level, Version};
use k8s_openapi::api::core::v1::Pod;
use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pss-fixtures.sh");
    let out = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        out.status.success(),
        "scripts/pss-fixtures.sh failed (it needs Go and the module proxy or a module cache): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_of_every_claimed_version_gets_the_upstream_verdict() {
    let root = testdata();
    let mut mismatches = Vec::new();
    let mut total = 0;
    for (level, name) in [
        (Level::Baseline, "baseline"),
        (Level::Restricted, "restricted"),
    ] {
        for minor in 0..=pss::LATEST_MINOR {
            let version = Version::parse(&format!("v1.{minor}")).unwrap();
            let dir = root.join(name).join(format!("v1.{minor}"));
            let (mut pass, mut fail) = (0, 0);
            for (expect_pass, sub) in [(true, "pass"), (false, "fail")] {
                for file in fixtures(&dir.join(sub)) {
                    let text = std::fs::read_to_string(&file).unwrap();
                    let pod: Pod = serde_saphyr::from_str(&text)
                        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                    let violations =
                        pss::check(level, version, &pod.metadata, pod.spec.as_ref().unwrap());
                    if violations.is_empty() != expect_pass {
                        mismatches.push(format!(
                            "{}: expected {sub}, got {violations:?}",
                            file.display()
                        ));
                    }
                    if expect_pass {
                        pass += 1
                    } else {
                        fail += 1
                    }
                }
            }
            assert!(
                pass > 0 && fail > 0,
                "no fixtures for {name} v1.{minor} in {}",
                dir.display()
            );
            total += pass + fail;
            println!("{name} v1.{minor}: {pass} pass and {fail} fail fixtures");
        }
    }
    println!("{total} fixtures checked");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
