//! The lab for tests/sign.rs: a loopback registry, a busybox image, registries.d for both
//! signature formats, a GNUPGHOME, and skopeo, gpg and ironroot run against them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn peers_missing() -> Option<String> {
    let cache = std::env::var("IRONROOT_CACHE").unwrap_or_else(|_| "/var/cache/ironroot".into());
    let root = Path::new(&cache).join("trixie-rootfs");
    if !root.join(".ironroot-stamp").exists() {
        return Some(format!(
            "{} missing (scripts/trixie-rootfs.sh builds it)",
            root.display()
        ));
    }
    if !root.join("usr/bin/gpg").exists() {
        return Some("gpg missing in the rootfs (scripts/trixie-rootfs.sh installs gnupg)".into());
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("skopeo runs in a chroot, which needs root".into());
    }
    let registry = Command::new("sh")
        .args(["-c", "command -v docker-registry"])
        .output();
    if !registry.map(|o| o.status.success()).unwrap_or(false) {
        return Some("docker-registry is not installed (scripts/install-deps.sh)".into());
    }
    None
}

#[macro_export]
macro_rules! need_peers {
    () => {
        if let Some(why) = peers_missing() {
            ironroot_testkit::skip_missing_peer(&why);
            return;
        }
    };
}

/// A scratch directory with a registry, a busybox image, registries.d and a GNUPGHOME.
/// Everything is torn down on drop: gpg agents, the registry, the directory.
pub struct Lab {
    pub dir: PathBuf,
    pub reg: String,
    /// The `skopeo login` file, for a registry that asks for credentials.
    pub authfile: Option<PathBuf>,
    /// Owns `dir`: removed after `drop` below has stopped what runs in it.
    _tmp: tempfile::TempDir,
}

/// The password of the lab registry's user `alice` (`Lab::with_login`).
pub const REGISTRY_PASSWORD: &str = "lab-Registry-pw-1";

impl Lab {
    pub fn new(name: &str) -> Lab {
        Lab::start(name, false)
    }

    /// A lab whose registry needs HTTP basic auth (htpasswd, bcrypt by mkpasswd); skopeo
    /// logs in once and both skopeo and ironroot then use the file it wrote.
    pub fn with_login(name: &str) -> Lab {
        let mut lab = Lab::start(name, true);
        let file = lab.dir.join("auth.json");
        ok(lab.skopeo(&[
            "login",
            "--tls-verify=false",
            "--authfile",
            &file.to_string_lossy(),
            "-u",
            "alice",
            "-p",
            REGISTRY_PASSWORD,
            &lab.reg,
        ]));
        lab.authfile = Some(file);
        lab
    }

    fn start(name: &str, login: bool) -> Lab {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("ironroot-sign-{name}-"))
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("gnupg")).unwrap();
        for d in [&dir, &dir.join("gnupg")] {
            std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        let mut registry = Command::new(repo().join("scripts/registry.sh"));
        registry.arg("start").arg(dir.join("registry"));
        if login {
            let hash = ok(Command::new("mkpasswd")
                .args(["-m", "bcrypt", REGISTRY_PASSWORD])
                .output()
                .unwrap());
            std::fs::write(dir.join("htpasswd"), format!("alice:{}\n", hash.trim())).unwrap();
            registry.env("REGISTRY_HTPASSWD", dir.join("htpasswd"));
        }
        let reg = ok(registry.output().unwrap());
        let lab = Lab {
            reg: reg.trim().to_owned(),
            dir,
            authfile: None,
            _tmp: tmp,
        };
        let st = Command::new(repo().join("scripts/make-test-image.sh"))
            .arg(lab.p("bb"))
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        std::fs::create_dir_all(lab.dir.join("registries.d")).unwrap();
        std::fs::create_dir_all(lab.dir.join("sigstore")).unwrap();
        // What containers-registries.d(5) needs for both formats: cosign attachments in
        // the registry, simple signatures in a lookaside directory.
        std::fs::write(
            lab.dir.join("registries.d/lab.yaml"),
            format!(
                "docker:\n  {}:\n    lookaside: file://{s}\n    lookaside-staging: file://{s}\n    use-sigstore-attachments: true\n",
                lab.reg,
                s = lab.p("sigstore")
            ),
        )
        .unwrap();
        std::fs::write(lab.dir.join("password"), PASSWORD).unwrap();
        lab
    }

    pub fn p(&self, rel: &str) -> String {
        self.dir.join(rel).to_string_lossy().into_owned()
    }

    /// skopeo in the chroot, with this lab's registries.d and GNUPGHOME.
    pub fn skopeo(&self, args: &[&str]) -> Output {
        let mut c = Command::new(repo().join("scripts/chroot-skopeo.sh"));
        c.arg("--bind")
            .arg(&self.dir)
            .arg("--registries.d")
            .arg(self.dir.join("registries.d"))
            .args(args)
            .env("GNUPGHOME", self.dir.join("gnupg"))
            .env("IRONROOT_CHROOT_PASSENV", "GNUPGHOME");
        if let Some(f) = &self.authfile {
            c.env("REGISTRY_AUTH_FILE", f)
                .env("IRONROOT_CHROOT_PASSENV", "GNUPGHOME REGISTRY_AUTH_FILE");
        }
        c.output().unwrap()
    }

    /// The rootfs's gpg (the one skopeo's gpgme drives), with this lab's GNUPGHOME.
    pub fn gpg(&self, args: &[&str]) -> Output {
        Command::new(repo().join("scripts/trixie-chroot.sh"))
            .arg("--bind")
            .arg(&self.dir)
            .args([
                "--",
                "gpg",
                "--homedir",
                &self.p("gnupg"),
                "--batch",
                "--no-tty",
            ])
            .args(args)
            .output()
            .unwrap()
    }

    /// Pushes the busybox image as `name:tag`, optionally signing it with skopeo's extra
    /// arguments; returns `REG/name@sha256:...` (skopeo compresses the layer on the way, so
    /// the digest is the registry's, read back from --digestfile).
    pub fn push(&self, name: &str, sign_args: &[&str]) -> String {
        let digest_file = self.p(&format!("{name}.digest"));
        let dest = format!("docker://{}/{name}:v1", self.reg);
        let src = format!("oci:{}:latest", self.p("bb"));
        let mut args = vec![
            "copy",
            "--dest-tls-verify=false",
            "--digestfile",
            &digest_file,
        ];
        args.extend_from_slice(sign_args);
        args.extend_from_slice(&[&src, &dest]);
        ok(self.skopeo(&args));
        let digest = std::fs::read_to_string(&digest_file).unwrap();
        format!("{}/{name}@{}", self.reg, digest.trim())
    }

    /// skopeo pulls `image` under policy.json `requirement`; whether it was accepted.
    pub fn skopeo_accepts(&self, image: &str, requirement: Value) -> Output {
        let policy = serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {image.split('@').next().unwrap(): [requirement]}}
        });
        let n = std::fs::read_dir(&self.dir).unwrap().count();
        let path = self.p(&format!("policy-{n}.json"));
        std::fs::write(&path, policy.to_string()).unwrap();
        let out = self.p(&format!("pulled-{n}"));
        self.skopeo(&[
            "--policy",
            &path,
            "copy",
            "--src-tls-verify=false",
            "--remove-signatures",
            &format!("docker://{image}"),
            &format!("oci:{out}:x"),
        ])
    }
}

impl Lab {
    /// containers/image verifies `signedBy` with a throwaway GNUPGHOME whose gpg-agent
    /// outlives skopeo (seen with the rootfs's gpg 2.4.7). Those agents run in the chroot's
    /// private mount namespace, where this lab's directory is mounted: that identifies the
    /// ones this lab started, and only those are ended, by process id.
    fn kill_ephemeral_gpg_agents(&self) {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            let ours = cmdline.starts_with("gpg-agent")
                && cmdline.contains("containers-ephemeral-gpg-")
                && std::fs::read_link(e.path().join("root")).is_ok_and(|r| r != Path::new("/"))
                && Path::new(&format!("/proc/{pid}/root{}", self.dir.display())).exists();
            if ours {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.kill_ephemeral_gpg_agents();
        let _ = Command::new(repo().join("scripts/trixie-chroot.sh"))
            .arg("--bind")
            .arg(&self.dir)
            .args([
                "--",
                "gpgconf",
                "--homedir",
                &self.p("gnupg"),
                "--kill",
                "all",
            ])
            .output();
        let _ = Command::new(repo().join("scripts/registry.sh"))
            .arg("stop")
            .arg(self.dir.join("registry"))
            .status();
    }
}

/// `ironroot ARGS` in the lab, with its registry login if it has one.
pub fn ironroot(lab: &Lab, args: &[&str]) -> Output {
    let mut c = command_in(&lab.dir, args);
    if let Some(f) = &lab.authfile {
        c.env("REGISTRY_AUTH_FILE", f);
    }
    c.output().unwrap()
}

pub fn ironroot_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args).output().unwrap()
}

/// The binary in `dir`, with no credentials of the machine's user: an empty home, and no
/// auth file or password in the environment.
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ironroot"));
    c.args(args)
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env_remove("COSIGN_PASSWORD")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DOCKER_CONFIG");
    c
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `ironroot --output json verify ...`: the exit code and the report.
pub fn verify(lab: &Lab, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--output", "json", "verify", "--plain-http"];
    all.extend_from_slice(args);
    let o = ironroot(lab, &all);
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 2, "{}", text(&o));
    (
        code,
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o))),
    )
}

pub fn cosign_keygen(lab: &Lab, prefix: &str) {
    ok(ironroot(
        lab,
        &[
            "sign",
            "keygen",
            "--output-key-prefix",
            prefix,
            "--password-file",
            &lab.p("password"),
        ],
    ));
}

/// skopeo refused the image under its policy, for the expected reason.
pub fn refused_because(o: &Output, why: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "skopeo accepted the image: {}",
        text(o)
    );
    assert!(
        err.contains("Source image rejected") && err.contains(why),
        "{}",
        text(o)
    );
}

pub fn reasons(report: &Value) -> String {
    report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap_or("-").to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The registry's raw manifest at `tag` of `repo` (plain HTTP API, as a tamperer would).
pub fn get_manifest(lab: &Lab, repo: &str, tag: &str) -> Value {
    let out = ok(Command::new("curl")
        .args([
            "-fsS",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!("http://{}/v2/{repo}/manifests/{tag}", lab.reg))
        .output()
        .unwrap());
    serde_json::from_str(&out).unwrap()
}

pub fn put_manifest(lab: &Lab, repo: &str, tag: &str, manifest: &Value) {
    let path = lab.p("manifest-upload.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    ok(Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg("--data-binary")
        .arg(format!("@{path}"))
        .arg(format!("http://{}/v2/{repo}/manifests/{tag}", lab.reg))
        .output()
        .unwrap());
}

pub fn sig_tag(image: &str) -> String {
    format!("{}.sig", image.split('@').nth(1).unwrap().replace(':', "-"))
}

/// A second image (different content, so a different digest) pushed unsigned.
pub fn push_other_image(lab: &Lab, name: &str) -> String {
    std::fs::create_dir_all(lab.dir.join("other/etc")).unwrap();
    std::fs::write(lab.dir.join("other/etc/motd"), "another image\n").unwrap();
    let st = Command::new(repo().join("scripts/make-test-image.sh"))
        .args([&lab.p("other-img"), &lab.p("other")])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let digest_file = lab.p("other.digest");
    ok(lab.skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--digestfile",
        &digest_file,
        &format!("oci:{}:latest", lab.p("other-img")),
        &format!("docker://{}/{name}:v2", lab.reg),
    ]));
    format!(
        "{}/{name}@{}",
        lab.reg,
        std::fs::read_to_string(digest_file).unwrap().trim()
    )
}

/// gpg makes a key in the lab's GNUPGHOME (the rootfs's gpg 2.4, as skopeo's gpgme uses);
/// returns its fingerprint and writes its exported public key to `FILE`.
pub fn gpg_keygen(lab: &Lab, user_id: &str, export_to: &str) -> String {
    ok(lab.gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        user_id,
        "ed25519",
        "sign",
        "never",
    ]));
    let colons = ok(lab.gpg(&["--with-colons", "--fingerprint", user_id]));
    let fpr = colons
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .map(|l| l.trim_matches(':').to_owned())
        .unwrap();
    ok(lab.gpg(&["--output", &lab.p(export_to), "--export", &fpr]));
    fpr
}
