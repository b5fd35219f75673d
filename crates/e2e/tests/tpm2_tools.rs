//! An independent TPM stack agrees: a quote made by ironroot's agent, exported in
//! tpm2-tools form, passes `tpm2_checkquote`; a one-byte change in any file fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_crypto::HashAlg;
use ironroot_e2e::{peers_available, Node, TempDir};
use std::path::Path;
use std::process::Command;

fn checkquote(dir: &Path, nonce: &str) -> bool {
    let out = Command::new("tpm2_checkquote")
        .args([
            "-u",
            "ak.pub",
            "-m",
            "quote.msg",
            "-s",
            "quote.sig",
            "-f",
            "quote.pcrs",
            "-g",
            "sha256",
            "-q",
            nonce,
        ])
        .current_dir(dir)
        .output()
        .expect("tpm2_checkquote runs");
    if !out.status.success() {
        eprintln!(
            "tpm2_checkquote: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    out.status.success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_quote_passes_tpm2_checkquote() {
    if !peers_available() {
        return;
    }
    if Command::new("tpm2_checkquote")
        .arg("--version")
        .output()
        .is_err()
    {
        ironroot_testkit::skip_missing_peer(
            "tpm2-tools not installed (apt-get install tpm2-tools)",
        );
        return;
    }
    let dir = TempDir::new("tpm2tools").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let session = node.session("https://127.0.0.1:9", "").unwrap_or_else(|_| {
        // The session needs a CA only to talk to a service; this test never does.
        panic!("session")
    });
    let nonce = vec![0x5a; 32];
    let n2 = nonce.clone();
    let (ak, quote) = session
        .with_tpm(move |t| {
            let ak = t.attestation_key()?;
            let q = t.quote(&n2, &[(HashAlg::Sha256, (0..=10).collect())])?;
            Ok((ak, q))
        })
        .await
        .unwrap();
    let files =
        ironroot_tpm_wire::to_tpm2_tools(&quote.attest, &quote.signature, &quote.pcrs).unwrap();
    let out = dir.0.join("export");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("ak.pub"), &ak.public).unwrap();
    std::fs::write(out.join("quote.msg"), &files.message).unwrap();
    std::fs::write(out.join("quote.sig"), &files.signature).unwrap();
    std::fs::write(out.join("quote.pcrs"), &files.pcrs).unwrap();
    assert_eq!(files.pcr_list, "sha256:0,1,2,3,4,5,6,7,8,9,10");
    assert_eq!(files.qualification_hex, hex::encode(nonce));
    assert!(
        checkquote(&out, &files.qualification_hex),
        "tpm2_checkquote accepts ironroot's quote"
    );
    for (file, offset) in [
        ("quote.msg", 40usize),
        ("quote.sig", 30),
        ("quote.pcrs", 150),
    ] {
        let p = out.join(file);
        let good = std::fs::read(&p).unwrap();
        let mut bad = good.clone();
        bad[offset] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        assert!(
            !checkquote(&out, &files.qualification_hex),
            "one byte changed in {file} must fail"
        );
        std::fs::write(&p, &good).unwrap();
    }
    assert!(
        !checkquote(&out, &hex::encode([0x5b; 32])),
        "another nonce must fail"
    );
}
