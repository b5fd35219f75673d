//! A TPM whose state is rolled back to an earlier snapshot (an attacker replaying an old
//! TPM) shows a clock that went backwards without a reboot: a named fault, not trust.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use ironroot_verifier::{FaultName, TrustReport};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_state_rollback_is_caught_as_a_clock_going_backwards() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("rollback").unwrap();
    let mut node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |_| {}).await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    drop(s);
    // Snapshot the TPM's state, then keep using it for a while.
    node.swtpm.stop().unwrap();
    let tpm_state = node.swtpm.state_dir().join("tpm");
    let snapshot = node.swtpm.state_dir().join("snapshot");
    copy_dir(&tpm_state, &snapshot);
    node.swtpm.restart().unwrap();
    node.boot_tpm().await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    s.attest_once().await.unwrap();
    drop(s);
    // Roll the TPM back to the snapshot and boot it again.
    node.swtpm.stop().unwrap();
    std::fs::remove_dir_all(&tpm_state).unwrap();
    copy_dir(&snapshot, &tpm_state);
    node.swtpm.restart().unwrap();
    node.boot_tpm().await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    let r = s.attest_once().await.unwrap();
    assert!(!r.trusted);
    let jwks: ironroot_crypto::JwkSet = p.admin.get("/.well-known/jwks.json").await.unwrap();
    let report: TrustReport =
        serde_json::from_slice(&jwks.verify_compact(&r.report_jws).unwrap()).unwrap();
    let names: Vec<FaultName> = report.failed_faults().map(|(_, f)| f.name).collect();
    assert_eq!(names, vec![FaultName::ClockWentBackwards]);
    // Not a one-off: the rolled-back TPM stays behind the high-water mark.
    let again = s.attest_once().await.unwrap();
    assert!(!again.trusted, "a rolled-back TPM stays untrusted");
}
