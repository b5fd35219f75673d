//! Arbitrary bytes as every file ironroot-imagecheck reads (etc/shadow, etc/passwd,
//! login.defs, the PAM stack, pwquality.conf, sshd_config and a drop-in) and as an image
//! configuration: no panic, and no finding about the account files that echoes a
//! password hash (findings about the image config or sshd_config quote those files'
//! values, which here are the same bytes, so they are not held to it).
#![no_main]

use ironroot_imagecheck::{check, ImageConfig, Options};
use ironroot_layers::{Gathered, Overlay};
use ironroot_pkgdb::{Ecosystem, Package};
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "etc/shadow",
    "etc/passwd",
    "etc/login.defs",
    "etc/pam.d/common-password",
    "etc/security/pwquality.conf",
    "etc/ssh/sshd_config",
    "etc/ssh/sshd_config.d/00-fuzz.conf",
];

fuzz_target!(|data: &[u8]| {
    let config = ImageConfig::from_oci_config_json(data).unwrap_or_default();
    let mut files = Overlay::new();
    for path in PATHS {
        files.put(
            path,
            Gathered { layer: 0, mode: 0o4644, uid: 0, gid: 0, size: data.len() as u64, content: Some(data.to_vec()) },
        );
    }
    // Hash parameters come from the input: keep the guessing cheap so the fuzzer explores.
    let mut opts = Options::default();
    opts.max_guesses_per_account = 2;
    opts.password_work_budget = 40;
    opts.max_yescrypt_memory = 1 << 20;
    let packages = [Package::new(Ecosystem::Dpkg, "openssh-server", "1:9.2p1-2")];
    for f in check(&files, &packages, &config, &opts) {
        assert!(!f.id.is_empty());
        let accounts = matches!(f.path.as_deref(), Some("etc/shadow" | "etc/passwd"));
        assert!(!accounts || !f.evidence.unwrap_or_default().contains("$6$"));
    }
});
