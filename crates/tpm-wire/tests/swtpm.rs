//! Checks this crate against the reference TPM: swtpm driven by tpm2-tools. Fails when
//! either is not installed, or skips where a developer allowed it
//! (`ironroot_testkit::skip_missing_peer`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::{
    hierarchy_qualified_name, make_credential, qualified_name, verify_quote, PcrValues, QuoteError,
    TpmPublic, TPM_RH_ENDORSEMENT,
};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running swtpm with its own state directory; both go away on drop.
struct Swtpm {
    child: Child,
    /// Removed after `drop` below has stopped swtpm.
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Two adjacent free loopback ports (server, control), found by binding port 0.
fn free_port_pair() -> Option<u16> {
    for _ in 0..50 {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Some(port);
        }
    }
    None
}

fn start_swtpm(name: &str) -> Swtpm {
    for attempt in 0..5 {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ironroot-tpm-wire-{name}-{attempt}-"))
            .tempdir()
            .unwrap();
        let port = free_port_pair().expect("no free loopback ports");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.path().display()))
            .args(["--server", &format!("type=tcp,port={port}")])
            .args(["--ctrl", &format!("type=tcp,port={}", port + 1)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut tpm = Swtpm { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = tpm.child.try_wait() {
                break; // lost the port race; try another pair
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return tpm;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Dropping `tpm` kills it and removes its state before the next attempt.
    }
    panic!("swtpm did not start");
}

impl Swtpm {
    /// Runs a tpm2-tools command in the state directory and returns its stdout.
    fn tool(&self, args: &[&str]) -> String {
        match self.try_tool(args) {
            Ok(stdout) => stdout,
            Err(stderr) => panic!("{args:?} failed: {stderr}"),
        }
    }

    /// Like `tool`, but returns the failure's stderr instead of panicking.
    fn try_tool(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(args[0])
            .args(&args[1..])
            .current_dir(self.dir.path())
            .env(
                "TPM2TOOLS_TCTI",
                format!("swtpm:host=127.0.0.1,port={}", self.port),
            )
            .output()
            .unwrap();
        // Without a resource manager, loaded objects fill the TPM's few slots.
        if args[0] != "tpm2_flushcontext" {
            self.tool(&["tpm2_flushcontext", "-t"]);
        }
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(file)).unwrap()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

fn tools_available() -> bool {
    let missing: Vec<_> = [
        "swtpm",
        "tpm2_createek",
        "tpm2_createak",
        "tpm2_activatecredential",
        "tpm2_quote",
    ]
    .into_iter()
    .filter(|t| !on_path(t))
    .collect();
    if !missing.is_empty() {
        ironroot_testkit::skip_missing_peer(&format!(
            "swtpm integration test needs {missing:?} on PATH (apt-get install swtpm tpm2-tools)"
        ));
    }
    missing.is_empty()
}

/// EK and AK as `tpm2_createek` / `tpm2_createak` make them; returns the parsed AK.
fn create_keys(tpm: &Swtpm, ek_alg: &str) -> (TpmPublic, TpmPublic) {
    tpm.tool(&[
        "tpm2_createek",
        "-c",
        "ek.ctx",
        "-G",
        ek_alg,
        "-u",
        "ek.pub",
    ]);
    tpm.tool(&[
        "tpm2_createak",
        "-C",
        "ek.ctx",
        "-c",
        "ak.ctx",
        "-G",
        "rsa",
        "-g",
        "sha256",
        "-s",
        "rsassa",
        "-u",
        "ak.pub",
        "-n",
        "ak.name",
    ]);
    let ek = TpmPublic::parse(&tpm.read("ek.pub")).unwrap();
    let ak = TpmPublic::parse(&tpm.read("ak.pub")).unwrap();
    assert_eq!(ak.name(), tpm.read("ak.name"));
    assert!(ak.is_restricted_signing_key());
    (ek, ak)
}

/// Runs TPM2_ActivateCredential on our blob for the AK; the TPM's answer or its error.
fn activate(
    tpm: &Swtpm,
    ek: &TpmPublic,
    bound_to: &[u8],
    secret: &[u8],
) -> Result<Vec<u8>, String> {
    let made = make_credential(ek, bound_to, secret).unwrap();
    std::fs::write(tpm.path("cred.bin"), made.to_tpm2_tools_file()).unwrap();
    let _ = std::fs::remove_file(tpm.path("out.bin"));
    // The TCG EK's policy is PolicySecret(TPM_RH_ENDORSEMENT); tpm2-tools 5.4 does not
    // satisfy it by itself.
    tpm.tool(&[
        "tpm2_startauthsession",
        "--policy-session",
        "-S",
        "session.ctx",
    ]);
    tpm.tool(&["tpm2_policysecret", "-S", "session.ctx", "-c", "e"]);
    let result = tpm.try_tool(&[
        "tpm2_activatecredential",
        "-c",
        "ak.ctx",
        "-C",
        "ek.ctx",
        "-i",
        "cred.bin",
        "-o",
        "out.bin",
        "-P",
        "session:session.ctx",
    ]);
    tpm.tool(&["tpm2_flushcontext", "session.ctx"]);
    result.map(|_| tpm.read("out.bin"))
}

/// Our file has tpm2_makecredential's header and field sizes (contents are random).
fn same_layout_as_tpm2_makecredential(tpm: &Swtpm, ek: &TpmPublic, ak: &TpmPublic, secret: &[u8]) {
    std::fs::write(tpm.path("secret.bin"), secret).unwrap();
    let name = hex::encode(ak.name());
    tpm.tool(&[
        "tpm2_makecredential",
        "-T",
        "none",
        "-u",
        "ek.pub",
        "-s",
        "secret.bin",
        "-n",
        &name,
        "-o",
        "theirs.bin",
    ]);
    let theirs = tpm.read("theirs.bin");
    let ours = make_credential(ek, &ak.name(), secret)
        .unwrap()
        .to_tpm2_tools_file();
    assert_eq!(ours.len(), theirs.len());
    // magic, version, TPM2B_ID_OBJECT size, its HMAC's size.
    assert_eq!(ours[..12], theirs[..12]);
}

#[test]
fn make_credential_with_rsa_ek_is_activated_by_swtpm() {
    if !tools_available() {
        return;
    }
    let tpm = start_swtpm("rsa");
    let (ek, ak) = create_keys(&tpm, "rsa");
    let secret = b"ironroot rsa ek credential 32 b!";
    assert_eq!(activate(&tpm, &ek, &ak.name(), secret).unwrap(), secret);
    same_layout_as_tpm2_makecredential(&tpm, &ek, &ak, secret);
    // Bound to another Name, the TPM must refuse it (TPM_RC_INTEGRITY, 0x1DF).
    let err = activate(&tpm, &ek, &ek.name(), secret).unwrap_err();
    assert!(
        err.contains("integrity check failed"),
        "unexpected failure: {err}"
    );
}

#[test]
fn make_credential_with_ecc_ek_is_activated_by_swtpm() {
    if !tools_available() {
        return;
    }
    let tpm = start_swtpm("ecc");
    let (ek, ak) = create_keys(&tpm, "ecc");
    assert_eq!(
        activate(&tpm, &ek, &ak.name(), b"ecc secret").unwrap(),
        b"ecc secret"
    );
}

#[test]
fn swtpm_quote_verifies_and_each_tampering_is_caught() {
    if !tools_available() {
        return;
    }
    let tpm = start_swtpm("quote");
    let (ek, ak) = create_keys(&tpm, "rsa");
    tpm.tool(&["tpm2_pcrextend", &format!("10:sha256={}", "ab".repeat(32))]);
    let nonce = b"fresh nonce 0123";
    tpm.tool(&[
        "tpm2_quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:0,1,2,10",
        "-q",
        &hex::encode(nonce),
        "-m",
        "quote.msg",
        "-s",
        "quote.sig",
        "-o",
        "quote.pcrs",
        "-g",
        "sha256",
    ]);
    tpm.tool(&["tpm2_pcrread", "sha256:0,1,2,10", "-o", "pcrs.bin"]);
    let (msg, sig, raw) = (
        tpm.read("quote.msg"),
        tpm.read("quote.sig"),
        tpm.read("pcrs.bin"),
    );
    let mut pcrs = PcrValues::default();
    for (index, value) in [0, 1, 2, 10].into_iter().zip(raw.chunks(32)) {
        pcrs.set(HashAlg::Sha256, index, value.to_vec());
    }

    // The quote's qualifiedSigner is the AK's Qualified Name: endorsement hierarchy
    // handle, then the EK's Name, then the AK's Name.
    let ek_qn = qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ek.name(),
        ek.name_alg(),
    );
    let ak_qn = qualified_name(&ek_qn, &ak.name(), ak.name_alg());

    let q = verify_quote(&ak, Some(&ak_qn), &msg, &sig, nonce, &pcrs).unwrap();
    assert_ne!(
        q.qualified_signer(),
        ak.name(),
        "it is the Qualified Name, not the Name"
    );
    assert_eq!(q.pcrs(), &pcrs);
    assert_eq!(q.nonce(), nonce);

    let mut bad = msg.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        verify_quote(&ak, None, &bad, &sig, nonce, &pcrs),
        Err(QuoteError::BadSignature)
    );
    let mut bad = sig.clone();
    bad[20] ^= 1;
    assert_eq!(
        verify_quote(&ak, None, &msg, &bad, nonce, &pcrs),
        Err(QuoteError::BadSignature)
    );
    let mut bad = pcrs.clone();
    bad.set(HashAlg::Sha256, 1, vec![1; 32]);
    assert_eq!(
        verify_quote(&ak, None, &msg, &sig, nonce, &bad),
        Err(QuoteError::PcrDigestMismatch)
    );
    assert_eq!(
        verify_quote(&ak, None, &msg, &sig, b"stale nonce 0123", &pcrs),
        Err(QuoteError::NonceMismatch)
    );
}

/// RSA-PSS checks that the TPM's salt length is the one ironroot-crypto verifies, and
/// ECDSA covers the other signature path.
#[test]
fn swtpm_rsapss_and_ecdsa_quotes_verify() {
    if !tools_available() {
        return;
    }
    let tpm = start_swtpm("schemes");
    tpm.tool(&["tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub"]);
    tpm.tool(&["tpm2_pcrread", "sha256:0,7", "-o", "pcrs.bin"]);
    let raw = tpm.read("pcrs.bin");
    let mut pcrs = PcrValues::default();
    for (index, value) in [0, 7].into_iter().zip(raw.chunks(32)) {
        pcrs.set(HashAlg::Sha256, index, value.to_vec());
    }
    for (key_alg, scheme) in [("rsa", "rsapss"), ("ecc", "ecdsa")] {
        tpm.tool(&[
            "tpm2_createak",
            "-C",
            "ek.ctx",
            "-c",
            "ak.ctx",
            "-G",
            key_alg,
            "-g",
            "sha256",
            "-s",
            scheme,
            "-u",
            "ak.pub",
        ]);
        tpm.tool(&[
            "tpm2_quote",
            "-c",
            "ak.ctx",
            "-l",
            "sha256:0,7",
            "-q",
            "0badc0de",
            "-m",
            "q.msg",
            "-s",
            "q.sig",
            "-g",
            "sha256",
            "--scheme",
            scheme,
        ]);
        let ak = TpmPublic::parse(&tpm.read("ak.pub")).unwrap();
        let (msg, sig) = (tpm.read("q.msg"), tpm.read("q.sig"));
        let q = verify_quote(&ak, None, &msg, &sig, &[0x0b, 0xad, 0xc0, 0xde], &pcrs);
        assert_eq!(q.map(|q| q.pcrs().clone()), Ok(pcrs.clone()), "{scheme}");
    }
}
