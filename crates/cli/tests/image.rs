#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot image` against the real skopeo 1.18 (Debian 13 rootfs, see docs/peers.md):
//! images ironroot encrypts, skopeo decrypts, and the other way round, byte for byte; a
//! tampered layer is caught by its HMAC and leaves nothing; the pipeline step refuses
//! plaintext layers and pushes encrypted images to a loopback registry.
//!
//! Tests that need skopeo or the registry print why and pass when the rootfs
//! (`make test` builds it) or `docker-registry` is missing.

use ironroot_crypto::{digest, HashAlg};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rootfs_missing() -> Option<String> {
    let cache = std::env::var("IRONROOT_CACHE").unwrap_or_else(|_| "/var/cache/ironroot".into());
    let stamp = Path::new(&cache).join("trixie-rootfs/.ironroot-stamp");
    if !stamp.exists() {
        return Some(format!(
            "{} missing (scripts/trixie-rootfs.sh builds it)",
            stamp.display()
        ));
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    (String::from_utf8_lossy(&uid.stdout).trim() != "0")
        .then(|| "skopeo runs in a chroot, which needs root".into())
}

macro_rules! need_skopeo {
    () => {
        if let Some(why) = rootfs_missing() {
            ironroot_testkit::skip_missing_peer(&why);
            return;
        }
    };
}

/// A scratch directory (lowercase, under /tmp), removed on drop (by the `TempDir` that
/// owns it).
struct Work(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Work {
    fn new(name: &str) -> Work {
        // No random suffix: tempfile's would bring upper case into the path. The process
        // id keeps concurrent runs apart, as before.
        let stale =
            std::env::temp_dir().join(format!("ironroot-image-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stale);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("ironroot-image-{}-{name}", std::process::id()))
            .rand_bytes(0)
            .tempdir()
            .unwrap();
        let d = tmp.path().to_path_buf();
        let keys = repo().join("crates/ocicrypt/tests/fixtures/skopeo");
        for k in ["rsa-pub.pem", "rsa-priv.pem", "ec-pub.pem", "ec-priv.pem"] {
            std::fs::copy(keys.join(k), d.join(k)).unwrap();
        }
        Work(d, tmp)
    }
    fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
}

/// Two layers (a small file; 300 kB of incompressible bytes), gzip, tagged `latest`.
fn make_image(w: &Work, name: &str) -> String {
    for (dir, data) in [("l1/etc", b"hello\n".to_vec()), ("l2/opt", noise(300_000))] {
        std::fs::create_dir_all(w.0.join(dir)).unwrap();
        std::fs::write(w.0.join(dir).join("data"), data).unwrap();
    }
    let out = w.p(name);
    let st = Command::new(repo().join("scripts/make-test-image.sh"))
        .args(["--gzip", &out, &w.p("l1"), &w.p("l2")])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn ironroot(args: &[&str]) -> Output {
    ironroot_env(args, &[])
}

fn ironroot_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn skopeo(w: &Work, args: &[&str]) {
    let o = Command::new(repo().join("scripts/chroot-skopeo.sh"))
        .arg("--bind")
        .arg(&w.0)
        .args(args)
        .output()
        .unwrap();
    ok(o);
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(HashAlg::Sha256, data)))
}

fn read_json(path: impl AsRef<Path>) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob_path(dir: &str, digest: &str) -> PathBuf {
    Path::new(dir).join("blobs/sha256").join(&digest[7..])
}

/// The manifest of the only image in the layout (checked against its digest).
fn manifest(dir: &str) -> Value {
    let index = read_json(Path::new(dir).join("index.json"));
    let ms = index["manifests"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{dir}: one image");
    let path = blob_path(dir, ms[0]["digest"].as_str().unwrap());
    assert_eq!(sha(&std::fs::read(&path).unwrap()), ms[0]["digest"]);
    read_json(path)
}

/// (media type, bytes) of each layer, each blob checked against its digest.
fn layers(dir: &str) -> Vec<(String, Vec<u8>)> {
    manifest(dir)["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let d = l["digest"].as_str().unwrap();
            let data = std::fs::read(blob_path(dir, d)).unwrap();
            assert_eq!(sha(&data), d);
            (l["mediaType"].as_str().unwrap().to_owned(), data)
        })
        .collect()
}

fn inspect_json(dir: &str) -> Value {
    serde_json::from_str(&ok(ironroot(&["image", "inspect", dir, "--json"]))).unwrap()
}

const ENC_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";

#[test]
fn ironroot_encrypts_and_skopeo_decrypts_rsa_and_ec() {
    need_skopeo!();
    let w = Work::new("enc-ir");
    let src = make_image(&w, "src");
    for kind in ["rsa", "ec"] {
        let (enc, dec) = (w.p(&format!("enc-{kind}")), w.p(&format!("dec-{kind}")));
        let key = format!("jwe:{}", w.p(&format!("{kind}-pub.pem")));
        ok(ironroot(&[
            "image",
            "encrypt",
            &format!("oci:{src}:latest"),
            &format!("oci:{enc}:latest"),
            "--key",
            &key,
        ]));
        assert!(layers(&enc).iter().all(|(mt, _)| mt == ENC_GZIP));
        assert_eq!(
            manifest(&enc)["config"],
            manifest(&src)["config"],
            "config unchanged"
        );
        let priv_key = w.p(&format!("{kind}-priv.pem"));
        skopeo(
            &w,
            &[
                "copy",
                "-q",
                "--decryption-key",
                &priv_key,
                &format!("oci:{enc}:latest"),
                &format!("oci:{dec}:latest"),
            ],
        );
        assert_eq!(
            layers(&dec),
            layers(&src),
            "{kind}: skopeo's plaintext is the original"
        );
    }
}

#[test]
fn skopeo_encrypts_and_ironroot_decrypts_rsa_and_ec() {
    need_skopeo!();
    let w = Work::new("enc-sk");
    let src = make_image(&w, "src");
    for kind in ["rsa", "ec"] {
        let (enc, dec) = (w.p(&format!("enc-{kind}")), w.p(&format!("dec-{kind}")));
        let key = format!("jwe:{}", w.p(&format!("{kind}-pub.pem")));
        skopeo(
            &w,
            &[
                "copy",
                "-q",
                "--encryption-key",
                &key,
                &format!("oci:{src}:latest"),
                &format!("oci:{enc}:latest"),
            ],
        );
        let priv_key = format!("jwe:{}", w.p(&format!("{kind}-priv.pem")));
        ok(ironroot(&[
            "image", "decrypt", &enc, &dec, "--key", &priv_key,
        ]));
        assert_eq!(
            layers(&dec),
            layers(&src),
            "{kind}: ironroot's plaintext is the original"
        );
        assert_eq!(
            manifest(&dec),
            manifest(&src),
            "{kind}: the original manifest, exactly"
        );
    }
}

/// Flips one ciphertext byte and fixes up the descriptor (digest, size), the manifest and
/// index.json, so that only the HMAC can tell.
fn tamper(dir: &str, layer: usize) -> String {
    let index_path = Path::new(dir).join("index.json");
    let mut index = read_json(&index_path);
    let mut m = manifest(dir);
    let old = m["layers"][layer]["digest"].as_str().unwrap().to_owned();
    let mut data = std::fs::read(blob_path(dir, &old)).unwrap();
    let at = data.len() / 2;
    data[at] ^= 0x01;
    let new = sha(&data);
    std::fs::write(blob_path(dir, &new), &data).unwrap();
    std::fs::remove_file(blob_path(dir, &old)).unwrap();
    m["layers"][layer]["digest"] = new.clone().into();
    m["layers"][layer]["size"] = data.len().into();
    let mb = serde_json::to_vec(&m).unwrap();
    std::fs::write(blob_path(dir, &sha(&mb)), &mb).unwrap();
    index["manifests"][0]["digest"] = sha(&mb).into();
    index["manifests"][0]["size"] = mb.len().into();
    std::fs::write(index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    new
}

#[test]
fn a_tampered_layer_fails_its_hmac_by_name_and_leaves_nothing() {
    let w = Work::new("tamper");
    let src = make_image(&w, "src");
    let enc = w.p("enc");
    let key = format!("jwe:{}", w.p("rsa-pub.pem"));
    ok(ironroot(&["image", "encrypt", &src, &enc, "--key", &key]));
    let bad = tamper(&enc, 1);
    let priv_key = w.p("rsa-priv.pem");

    // A fresh destination disappears entirely.
    let dst = w.p("dec");
    let o = ironroot(&["image", "decrypt", &enc, &dst, "--key", &priv_key]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("layer 2/2 ({bad})")), "{err}");
    assert!(err.contains("HMAC does not match"), "{err}");
    assert!(!Path::new(&dst).exists(), "nothing left of {dst}");

    // An existing destination keeps what it had and gets nothing decrypted, not even
    // the layer before the tampered one.
    let dst = w.p("existing");
    std::fs::create_dir_all(Path::new(&dst).join("blobs/sha256")).unwrap();
    std::fs::write(Path::new(&dst).join("blobs/sha256/unrelated"), b"x").unwrap();
    let o = ironroot(&["image", "decrypt", &enc, &dst, "--key", &priv_key]);
    assert_eq!(o.status.code(), Some(1));
    let left: Vec<_> = std::fs::read_dir(Path::new(&dst).join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["unrelated"]);
    assert!(!Path::new(&dst).join("index.json").exists());

    // A blob that is not what its descriptor says is refused as such.
    let m = manifest(&enc);
    let first = m["layers"][0]["digest"].as_str().unwrap();
    std::fs::write(blob_path(&enc, first), b"not the layer").unwrap();
    let o = ironroot(&["image", "decrypt", &enc, &w.p("dec2"), "--key", &priv_key]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "layer 1/2 ({first}), the encrypted blob does not match its descriptor"
        )),
        "{err}"
    );
}

/// The encrypted image with its second layer put back in plaintext.
fn partly_plaintext(w: &Work, src: &str) -> (String, String) {
    let enc = w.p("mixed");
    let key = format!("jwe:{}", w.p("ec-pub.pem"));
    ok(ironroot(&["image", "encrypt", src, &enc, "--key", &key]));
    let mut m = manifest(&enc);
    let plain = manifest(src)["layers"][1].clone();
    let d = plain["digest"].as_str().unwrap().to_owned();
    std::fs::copy(blob_path(src, &d), blob_path(&enc, &d)).unwrap();
    m["layers"][1] = plain;
    let mb = serde_json::to_vec(&m).unwrap();
    std::fs::write(blob_path(&enc, &sha(&mb)), &mb).unwrap();
    let mut index = read_json(Path::new(&enc).join("index.json"));
    index["manifests"][0]["digest"] = sha(&mb).into();
    index["manifests"][0]["size"] = mb.len().into();
    std::fs::write(
        Path::new(&enc).join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    (enc, d)
}

#[test]
fn check_and_push_refuse_a_partly_plaintext_image() {
    let w = Work::new("refuse");
    let src = make_image(&w, "src");
    let (mixed, plain_digest) = partly_plaintext(&w, &src);

    let o = ironroot(&["image", "check", &mixed]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("layer 2/2 ({plain_digest})")),
        "{out}"
    );
    assert!(!out.contains("layer 1/2"), "{out}");

    // skopeo must never run: this one would leave a mark.
    let mark = w.p("skopeo-ran");
    let fake = w.p("fake-skopeo");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch {mark}\n")).unwrap();
    Command::new("chmod").args(["755", &fake]).status().unwrap();
    let o = ironroot_env(
        &[
            "image",
            "push",
            &mixed,
            "docker://127.0.0.1:9/app:1",
            "--dest-tls-verify=false",
        ],
        &[("IRONROOT_SKOPEO", &fake)],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plaintext layers") && err.contains(&plain_digest),
        "{err}"
    );
    assert!(!Path::new(&mark).exists(), "skopeo was run");

    // The plain source too; the fully encrypted one passes.
    assert_eq!(ironroot(&["image", "check", &src]).status.code(), Some(1));
    let enc = w.p("enc");
    ok(ironroot(&[
        "image",
        "encrypt",
        &src,
        &enc,
        "--key",
        &format!("jwe:{}", w.p("rsa-pub.pem")),
    ]));
    ok(ironroot(&["image", "check", &enc]));
}

/// The loopback registry, stopped on drop.
struct Registry(String);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/registry.sh"))
            .args(["stop", &self.0])
            .status();
    }
}

#[test]
fn push_sends_an_encrypted_image_as_it_is() {
    need_skopeo!();
    if Command::new("sh")
        .args(["-c", "command -v docker-registry"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        ironroot_testkit::skip_missing_peer(
            "docker-registry missing (scripts/install-deps.sh installs it)",
        );
        return;
    }
    let w = Work::new("push");
    let src = make_image(&w, "src");
    let enc = w.p("enc");
    ok(ironroot(&[
        "image",
        "encrypt",
        &src,
        &format!("oci:{enc}:v1"),
        "--key",
        &format!("jwe:{}", w.p("rsa-pub.pem")),
    ]));
    let reg = Registry(w.p("registry"));
    let addr = ok(Command::new(repo().join("scripts/registry.sh"))
        .args(["start", &reg.0])
        .output()
        .unwrap());
    let addr = addr.trim();
    let wrapper = w.p("skopeo");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} --bind {} \"$@\"\n",
            repo().join("scripts/chroot-skopeo.sh").display(),
            w.0.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .args(["755", &wrapper])
        .status()
        .unwrap();
    let dest = format!("docker://{addr}/app:v1");
    let out = ok(ironroot_env(
        &[
            "image",
            "push",
            &format!("oci:{enc}:v1"),
            &dest,
            "--dest-tls-verify=false",
        ],
        &[("IRONROOT_SKOPEO", &wrapper)],
    ));
    let index = read_json(Path::new(&enc).join("index.json"));
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    assert!(out.contains(digest), "{out}");
    // What the registry holds decrypts, with skopeo, to the original layers.
    let back = w.p("back");
    skopeo(
        &w,
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--decryption-key",
            &w.p("rsa-priv.pem"),
            &dest,
            &format!("oci:{back}:v1"),
        ],
    );
    assert_eq!(layers(&back), layers(&src));
}

#[test]
fn inspect_shows_ironroot_and_skopeo_encryption() {
    let w = Work::new("inspect");
    let src = make_image(&w, "src");
    let plain = inspect_json(&src);
    assert!(plain["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["encrypted"] == false && l["recipients"] == serde_json::json!([])));

    let enc = w.p("enc");
    let (rsa, ec) = (
        format!("jwe:{}", w.p("rsa-pub.pem")),
        format!("jwe:{}", w.p("ec-pub.pem")),
    );
    ok(ironroot(&[
        "image", "encrypt", &src, &enc, "--key", &rsa, "--key", &ec,
    ]));
    let check = |r: &Value, recipients: usize| {
        for l in r["layers"].as_array().unwrap() {
            assert_eq!(l["encrypted"], true, "{l}");
            assert_eq!(l["media_type"], ENC_GZIP);
            assert_eq!(l["cipher"], "AES_256_CTR_HMAC_SHA256");
            assert_eq!(
                l["recipients"],
                serde_json::json!([{"scheme": "jwe", "count": recipients}])
            );
        }
    };
    check(&inspect_json(&enc), 2);
    let table = ok(ironroot(&["image", "inspect", &enc]));
    assert!(
        table.contains("AES_256_CTR_HMAC_SHA256") && table.contains("jwe x2"),
        "{table}"
    );

    if let Some(why) = rootfs_missing() {
        ironroot_testkit::skip_missing_peer(&format!("the skopeo half: {why}"));
        return;
    }
    let sk = w.p("sk");
    skopeo(
        &w,
        &[
            "copy",
            "-q",
            "--encryption-key",
            &rsa,
            &format!("oci:{src}:latest"),
            &format!("oci:{sk}:latest"),
        ],
    );
    check(&inspect_json(&sk), 1);
}
