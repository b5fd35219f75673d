#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot sign attest` / `ironroot verify --attestations` against a loopback
//! `docker-registry`, with an image pushed by skopeo (the lab of tests/sign.rs).
//!
//! The scan record that `ironroot scan --format cosign-vuln` writes is signed into a DSSE
//! envelope and stored as cosign stores attestations (`sha256-<hex>.att`, layer media type
//! `application/vnd.dsse.envelope.v1+json`, annotation `predicateType`); verification
//! reports the predicate and the scan summary. And the refusals: a statement about another
//! digest, an envelope altered in the registry, an attestation moved to another image, a
//! key that did not sign. Tests print why and pass when the peers are missing.

// The lab also serves tests/sign.rs; not every helper is used here.
#[allow(dead_code)]
mod sign_lab;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use sign_lab::*;
use std::process::{Command, Output};

const VULN: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const DSSE: &str = "application/vnd.dsse.envelope.v1+json";

fn att_tag(image: &str) -> String {
    sig_tag(image).replace(".sig", ".att")
}

fn digest_hex(image: &str) -> &str {
    image.rsplit("sha256:").next().unwrap()
}

fn sha256(data: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(ironroot_crypto::digest(
            ironroot_crypto::HashAlg::Sha256,
            data
        ))
    )
}

fn attest(lab: &Lab, image: &str, key: &str, statement: &str) -> Output {
    ironroot(
        lab,
        &[
            "sign",
            "attest",
            image,
            "--key",
            &lab.p(key),
            "--statement",
            &lab.p(statement),
            "--password-file",
            &lab.p("password"),
            "--plain-http",
        ],
    )
}

/// `verify --attestations --output json`: the exit code and the report.
fn verify_att(lab: &Lab, image: &str, public: &str) -> (i32, Value) {
    verify(lab, &[image, "--key", &lab.p(public), "--attestations"])
}

fn blob(lab: &Lab, repo: &str, digest: &str) -> Vec<u8> {
    let o = Command::new("curl")
        .args(["-fsS", "-L"])
        .arg(format!("http://{}/v2/{repo}/blobs/{digest}", lab.reg))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    o.stdout
}

/// Uploads a blob the way a tamperer with push access would (POST, then PUT with digest).
fn push_blob(lab: &Lab, repo: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let start = ok(Command::new("curl")
        .args(["-fsS", "-D", "-", "-o", "/dev/null", "-X", "POST"])
        .arg(format!("http://{}/v2/{repo}/blobs/uploads/", lab.reg))
        .output()
        .unwrap());
    let location = start
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_owned())
        })
        .unwrap();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("http://{}{location}", lab.reg)
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let path = lab.p("blob-upload");
    std::fs::write(&path, data).unwrap();
    ok(Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
        ])
        .arg("--data-binary")
        .arg(format!("@{path}"))
        .arg(format!("{url}{sep}digest={digest}"))
        .output()
        .unwrap());
    digest
}

/// The cosign-vuln statement for `image`, made by `ironroot scan` from the registry.
fn scan_statement(lab: &Lab, image: &str, out: &str) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args(["scan", &format!("docker://{image}"), "--plain-http"])
        .args(["--skip-vulnerabilities", "--format", "cosign-vuln", "-o"])
        .arg(lab.p(out))
        .current_dir(&lab.dir)
        .env("IRONROOT_INVENTORIES", lab.p("inventories"))
        .env("XDG_CACHE_HOME", lab.p("cache"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&std::fs::read(lab.p(out)).unwrap()).unwrap()
}

#[test]
fn help_teaches_attest_with_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let help = ok(ironroot_in(&dir, &["sign", "attest", "--help"]));
    assert!(
        help.contains("Examples:") && help.contains("--statement"),
        "{help}"
    );
    let verify_help = ok(ironroot_in(&dir, &["verify", "--help"]));
    assert!(verify_help.contains("--attestations"), "{verify_help}");
}

/// scan → attest → verify: the scan record is signed, stored as cosign stores it, and
/// reported with its scanner, time and counts; a key that did not sign it finds nothing
/// valid; a second attestation is appended to the same `.att` manifest.
#[test]
fn scan_record_is_attested_stored_as_cosign_does_and_verified() {
    need_peers!();
    let lab = Lab::new("attest-scan");
    cosign_keygen(&lab, "cosign");
    cosign_keygen(&lab, "other");
    let image = lab.push("app", &[]);
    let statement = scan_statement(&lab, &image, "stmt.json");
    assert_eq!(statement["predicateType"], VULN);
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest_hex(&image)
    );

    let out = ok(attest(&lab, &image, "cosign.key", "stmt.json"));
    assert!(out.contains(&att_tag(&image)), "{out}");

    let (code, report) = verify_att(&lab, &image, "cosign.pub");
    assert_eq!(code, 0, "{report:#}");
    let att = &report["attestations"][0];
    assert_eq!(att["verified"], true, "{report:#}");
    assert_eq!(att["predicate_type"], VULN);
    assert!(
        att["signer"].as_str().unwrap().contains("cosign.pub"),
        "{att:#}"
    );
    let vuln = &att["vuln"];
    assert_eq!(
        vuln["scanner_version"],
        statement["predicate"]["scanner"]["version"]
    );
    assert_eq!(
        vuln["scan_finished_on"],
        statement["predicate"]["metadata"]["scanFinishedOn"]
    );
    // --skip-vulnerabilities: an ironroot report with nothing found, every severity counted.
    for s in ["critical", "high", "medium", "low", "info", "unknown"] {
        assert_eq!(vuln["vulnerabilities"][s], 0, "{vuln:#}");
    }
    let table = ok(ironroot(
        &lab,
        &[
            "verify",
            "--plain-http",
            &image,
            "--key",
            &lab.p("cosign.pub"),
            "--attestations",
        ],
    ));
    assert!(
        table.contains("ATTESTATION VERIFIED") && table.contains("critical 0"),
        "{table}"
    );

    // What cosign writes: an OCI manifest, a DSSE layer annotated with the predicate
    // type, an envelope whose payload is exactly the statement file.
    let manifest = get_manifest(&lab, "app", &att_tag(&image));
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], DSSE, "{manifest:#}");
    assert_eq!(layer["annotations"]["predicateType"], VULN);
    let envelope: Value =
        serde_json::from_slice(&blob(&lab, "app", layer["digest"].as_str().unwrap())).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(envelope["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(
        STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
        std::fs::read(lab.p("stmt.json")).unwrap()
    );

    let (code, report) = verify_att(&lab, &image, "other.pub");
    assert_eq!(code, 2, "{report:#}");
    let reason = report["attestations"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("signature(s) verifies with the trusted key"),
        "{reason}"
    );
    assert!(report["attestations"][0]["vuln"].is_null());

    // A second attestation (another key) is appended, and each is judged on its own.
    ok(attest(&lab, &image, "other.key", "stmt.json"));
    let manifest = get_manifest(&lab, "app", &att_tag(&image));
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "{manifest:#}"
    );
    let (code, report) = verify_att(&lab, &image, "other.pub");
    assert_eq!(code, 0, "{report:#}");
    let verdicts: Vec<bool> = report["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["verified"].as_bool().unwrap())
        .collect();
    assert_eq!(verdicts, [false, true]);
}

/// A statement made by hand: what `scan --format cosign-vuln` writes, minus the report.
fn write_statement(lab: &Lab, file: &str, hex: &str) {
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": hex}}],
        "predicateType": VULN,
        "predicate": {"scanner": {"uri": "x", "version": "1", "result": {}},
                      "metadata": {"scanStartedOn": "2026-01-01T00:00:00Z",
                                   "scanFinishedOn": "2026-01-01T00:00:01Z"}},
    });
    std::fs::write(lab.p(file), statement.to_string()).unwrap();
}

#[test]
fn statement_for_another_digest_altered_envelope_and_moved_attestation_are_refused() {
    need_peers!();
    let lab = Lab::new("attest-refusals");
    cosign_keygen(&lab, "cosign");
    let image = lab.push("app", &[]);
    let other = push_other_image(&lab, "app");

    // attest refuses a statement about another image, and stores nothing.
    write_statement(&lab, "other.json", digest_hex(&other));
    let o = attest(&lab, &image, "cosign.key", "other.json");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("refusing"),
        "{}",
        text(&o)
    );
    let (code, report) = verify_att(&lab, &image, "cosign.pub");
    assert_eq!(code, 2, "{report:#}");
    assert!(
        report["attestations"].as_array().unwrap().is_empty(),
        "{report:#}"
    );

    write_statement(&lab, "stmt.json", digest_hex(&image));
    ok(attest(&lab, &image, "cosign.key", "stmt.json"));
    assert_eq!(verify_att(&lab, &image, "cosign.pub").0, 0);

    // Moved: the image's .att manifest put under the other image's tag. The signature is
    // good, but the statement is not about that image.
    let manifest = get_manifest(&lab, "app", &att_tag(&image));
    put_manifest(&lab, "app", &att_tag(&other), &manifest);
    let (code, report) = verify_att(&lab, &other, "cosign.pub");
    assert_eq!(code, 2, "{report:#}");
    let reason = report["attestations"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("good signature") && reason.contains("not this image"),
        "{reason}"
    );

    // Altered: the envelope's statement rewritten (a cleaner scan time) and re-pushed with
    // a manifest pointing at it. The digest chain is consistent; the signature is not.
    let layer = &manifest["layers"][0];
    let mut envelope: Value =
        serde_json::from_slice(&blob(&lab, "app", layer["digest"].as_str().unwrap())).unwrap();
    let payload = String::from_utf8(
        STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
    .replace("2026-01-01T00:00:01Z", "2026-06-01T00:00:01Z");
    envelope["payload"] = STANDARD.encode(payload).into();
    let altered = serde_json::to_vec(&envelope).unwrap();
    let digest = push_blob(&lab, "app", &altered);
    let mut tampered = manifest.clone();
    tampered["layers"][0]["digest"] = digest.into();
    tampered["layers"][0]["size"] = altered.len().into();
    put_manifest(&lab, "app", &att_tag(&image), &tampered);
    let (code, report) = verify_att(&lab, &image, "cosign.pub");
    assert_eq!(code, 2, "{report:#}");
    let att = &report["attestations"][0];
    assert_eq!(att["verified"], false);
    assert!(
        att["reason"]
            .as_str()
            .unwrap()
            .contains("signature(s) verifies"),
        "{report:#}"
    );
}
