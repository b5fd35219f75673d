//! Encrypted images end to end, with the real peers: Debian 13's skopeo 1.18 (ocicrypt with
//! key providers) encrypts a three-layer image through `ironroot-keyprovider` and pushes it
//! to a `docker-registry` on loopback; each swtpm node's agent serves the keyprovider gRPC
//! socket and skopeo tries to pull and decrypt through it. The trusted EU node gets the key
//! (one release for three layers) and podman runs the image with runc; the trusted US node
//! and the tampered EU node are refused in words that reach skopeo's error; the broker's log
//! has every decision. Both ocicrypt transports are used in both directions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{serve_keyprovider, NodeUnwrapper, Session};
use ironroot_api::{KeyInfo, ReleaseRecord};
use ironroot_e2e::{peers_available, tagged_fleet, TempDir};
use ironroot_peers::{self as peers, scripts_dir, skopeo_rootfs_ready, Output, Podman, Registry};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

fn skopeo_available() -> bool {
    let ok = skopeo_rootfs_ready()
        && Path::new("/usr/bin/podman").exists()
        && Path::new("/usr/bin/docker-registry").exists();
    if !ok {
        ironroot_testkit::skip_missing_peer(
            "the Debian 13 rootfs with skopeo, podman or docker-registry is missing (make test installs them)",
        );
    }
    ok
}

/// A binary of the workspace, built beside this test by `cargo test --workspace`.
fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build --workspace --bins` (make test does)",
        p.display()
    );
    p
}

fn provider_binary() -> PathBuf {
    workspace_binary("ironroot-keyprovider")
}

/// The layer digests of the image in an OCI layout (one manifest); each blob must exist.
fn layer_digests(layout: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(m)).unwrap()).unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let d = l["digest"].as_str().unwrap().to_owned();
            assert!(blob(&d).exists(), "{d} missing from {}", layout.display());
            d
        })
        .collect()
}

async fn run(cmd: &mut tokio::process::Command) -> Output {
    peers::run(cmd).await.unwrap()
}

async fn skopeo(work: &Path, kp: &Path, args: &[&str]) -> Output {
    peers::skopeo(work, kp, args).await.unwrap()
}

fn write_json(path: &Path, v: serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// Three layers: busybox, a greeting, and a data file.
fn make_image(work: &Path) -> PathBuf {
    let l1 = work.join("layers/1/bin");
    std::fs::create_dir_all(&l1).unwrap();
    std::fs::copy("/bin/busybox", l1.join("busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", l1.join("sh")).unwrap();
    let l2 = work.join("layers/2/etc");
    std::fs::create_dir_all(&l2).unwrap();
    std::fs::write(l2.join("hello.txt"), "hello from an encrypted image\n").unwrap();
    let l3 = work.join("layers/3/data");
    std::fs::create_dir_all(&l3).unwrap();
    std::fs::write(l3.join("payload"), vec![7u8; 100_000]).unwrap();
    let img = work.join("img");
    let st = std::process::Command::new(scripts_dir().join("make-test-image.sh"))
        .arg("--gzip")
        .arg(&img)
        .args(["1", "2", "3"].map(|l| work.join("layers").join(l)))
        .status()
        .unwrap();
    assert!(st.success());
    img
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_encrypts_through_ironroot_and_only_the_trusted_eu_node_runs_the_image() {
    if !peers_available() || !skopeo_available() {
        return;
    }
    let fleet = tagged_fleet("encimg", &[("eu-1", "EU"), ("us-1", "US"), ("eu-2", "EU")])
        .await
        .unwrap();
    let (p, mut nodes, sessions) = (fleet.platform, fleet.nodes, fleet.sessions);

    // The build host's side: the provider binary with the broker's address and token.
    let work = p.dir.0.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let bin = work.join("ironroot-keyprovider");
    std::fs::copy(provider_binary(), &bin).unwrap();
    std::fs::write(work.join("ca.pem"), &p.service.ca_pem).unwrap();
    std::fs::copy(p.config.data_dir.join("admin.token"), work.join("token")).unwrap();
    let build_args = serde_json::json!([
        "--server",
        p.url(),
        "--ca",
        work.join("ca.pem"),
        "--token-file",
        work.join("token"),
    ]);
    let enc_cmd = work.join("enc-cmd.json");
    write_json(
        &enc_cmd,
        serde_json::json!({"key-providers": {"ironroot": {"cmd": {"path": bin, "args": build_args}}}}),
    );
    let img = make_image(&work);
    let registry = Registry::start(&work.join("registry")).await.unwrap();
    let reg = registry.addr.clone();
    let src = format!("oci:{}:latest", img.display());
    let enc_ref = format!("docker://{reg}/app:enc");

    // Encrypt with the command transport; the key is created by the policy arguments.
    let out = skopeo(
        &work,
        &enc_cmd,
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--encryption-key",
            "provider:ironroot:eu-app+tag:region=EU",
            &src,
            &enc_ref,
        ],
    )
    .await;
    assert!(out.ok, "encrypting: {}", out.stderr);
    let key: KeyInfo = p.admin.get("/v1/keys/eu-app").await.unwrap();
    assert_eq!(key.policy.asset_tags["region"], "EU");

    // A bare name never creates a key.
    let out = skopeo(
        &work,
        &enc_cmd,
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--encryption-key",
            "provider:ironroot:no-such-key",
            &src,
            &format!("docker://{reg}/app:never"),
        ],
    )
    .await;
    assert!(
        !out.ok && out.stderr.contains("no key named no-such-key"),
        "{}",
        out.stderr
    );

    // Encrypt again with the gRPC transport (`ironroot-keyprovider serve`), same key.
    let build_sock = work.join("build.sock");
    let mut server = tokio::process::Command::new(&bin)
        .arg("serve")
        .arg("--socket")
        .arg(&build_sock)
        .args(["--server", &p.url()])
        .arg("--ca")
        .arg(work.join("ca.pem"))
        .arg("--token-file")
        .arg(work.join("token"))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if build_sock.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let enc_grpc = work.join("enc-grpc.json");
    write_json(
        &enc_grpc,
        serde_json::json!({"key-providers": {"ironroot": {"grpc": format!("unix://{}", build_sock.display())}}}),
    );
    let enc_grpc_ref = format!("docker://{reg}/app:enc-grpc");
    let out = skopeo(
        &work,
        &enc_grpc,
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--encryption-key",
            "provider:ironroot:eu-app",
            &src,
            &enc_grpc_ref,
        ],
    )
    .await;
    assert!(out.ok, "encrypting over gRPC: {}", out.stderr);
    server.kill().await.unwrap();

    // Each node's agent serves the keyprovider socket.
    let shared: Vec<Arc<RwLock<Session>>> = sessions
        .into_iter()
        .map(|s| Arc::new(RwLock::new(s)))
        .collect();
    let mut unwrappers = Vec::new();
    for (s, name) in shared.iter().zip(["eu-1", "us-1", "eu-2"]) {
        let u = Arc::new(NodeUnwrapper::new(
            s.clone(),
            Duration::from_secs(30),
            Duration::from_secs(2),
        ));
        let sock = work.join(format!("{name}.sock"));
        let listener = ironroot_agent::bind_keyprovider(&sock).unwrap();
        tokio::spawn(serve_keyprovider(
            listener,
            u.clone(),
            std::future::pending(),
        ));
        write_json(
            &work.join(format!("dec-{name}.json")),
            serde_json::json!({"key-providers": {"ironroot": {"grpc": format!("unix://{}", sock.display())}}}),
        );
        unwrappers.push(u);
    }
    // The tampered node: a runtime file changed after the golden flavor was taken.
    nodes[2]
        .tamper_runtime(&*shared[2].read().await, "/usr/sbin/runc")
        .await
        .unwrap();

    let decrypt = |name: &'static str, from: String| {
        let work = work.clone();
        async move {
            let kp = work.join(format!("dec-{name}.json"));
            let archive = format!(
                "oci-archive:{}:localhost/ironroot/app:{name}",
                work.join(format!("{name}.tar")).display()
            );
            skopeo(
                &work,
                &kp,
                &[
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                    "--decryption-key",
                    "provider:ironroot",
                    &from,
                    &archive,
                ],
            )
            .await
        }
    };

    // EU, trusted: decrypts all three layers with one key release.
    let out = decrypt("eu-1", enc_ref.clone()).await;
    assert!(out.ok, "eu-1 decrypting: {}", out.stderr);
    assert_eq!(unwrappers[0].releases(), 1, "one release for three layers");
    // ... the gRPC-encrypted tag too (the key is cached: still one release).
    let out = decrypt("eu-1", enc_grpc_ref.clone()).await;
    assert!(
        out.ok,
        "eu-1 decrypting the gRPC-encrypted image: {}",
        out.stderr
    );
    assert_eq!(unwrappers[0].releases(), 1);

    // podman (runc) runs what eu-1 decrypted.
    // podman refuses a runroot path longer than 50 characters: a short directory of its own.
    let podman_dir = TempDir::new("pm").unwrap();
    let podman = Podman::new(podman_dir.0.clone());
    let image = podman.load(&work.join("eu-1.tar")).await.unwrap();
    let ran = podman
        .run(&image, &["/bin/busybox", "cat", "/etc/hello.txt"])
        .await
        .unwrap();
    assert!(ran.ok, "podman run: {}", ran.stderr);
    assert_eq!(ran.stdout, "hello from an encrypted image\n");

    // ironroot's own encryption (provider:ironroot), decrypted by skopeo through eu-1's agent.
    let ironroot = workspace_binary("ironroot");
    let ir_enc = work.join("ir-enc");
    let out = run(tokio::process::Command::new(&ironroot)
        .args(["image", "encrypt", "--key", "provider:ironroot:eu-app"])
        .args(["--server", &p.url()])
        .arg("--ca")
        .arg(work.join("ca.pem"))
        .arg("--token-file")
        .arg(work.join("token"))
        .arg(&src)
        .arg(format!("oci:{}:latest", ir_enc.display())))
    .await;
    assert!(out.ok, "ironroot image encrypt: {}", out.stderr);
    let sk_dec = work.join("sk-dec");
    let out = skopeo(
        &work,
        &work.join("dec-eu-1.json"),
        &[
            "copy",
            "--quiet",
            "--decryption-key",
            "provider:ironroot",
            &format!("oci:{}:latest", ir_enc.display()),
            &format!("oci:{}:latest", sk_dec.display()),
        ],
    )
    .await;
    assert!(
        out.ok,
        "skopeo decrypting ironroot's encryption: {}",
        out.stderr
    );
    assert_eq!(layer_digests(&sk_dec), layer_digests(&img));

    // ... and the reverse: skopeo's encryption (fetched as is), decrypted by ironroot.
    let sk_enc = work.join("sk-enc");
    let out = skopeo(
        &work,
        &work.join("dec-eu-1.json"),
        &[
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            &enc_ref,
            &format!("oci:{}:latest", sk_enc.display()),
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert_ne!(
        layer_digests(&sk_enc),
        layer_digests(&img),
        "still encrypted"
    );
    let ir_dec = work.join("ir-dec");
    let out = run(tokio::process::Command::new(&ironroot)
        .args([
            "image",
            "decrypt",
            "--key",
            "provider:ironroot",
            "--agent-socket",
        ])
        .arg(work.join("eu-1.sock"))
        .arg(format!("oci:{}:latest", sk_enc.display()))
        .arg(format!("oci:{}:latest", ir_dec.display())))
    .await;
    assert!(out.ok, "ironroot image decrypt: {}", out.stderr);
    assert_eq!(layer_digests(&ir_dec), layer_digests(&img));
    assert_eq!(unwrappers[0].releases(), 1, "still the one release");

    // US, trusted: refused, and skopeo shows why.
    let out = decrypt("us-1", enc_ref.clone()).await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("region=EU") && out.stderr.contains("region=US"),
        "us-1: {}",
        out.stderr
    );
    assert!(
        !work.join("us-1.tar").exists()
            || std::fs::metadata(work.join("us-1.tar")).unwrap().len() == 0
    );

    // EU but tampered: refused because untrusted, naming the file.
    let out = decrypt("eu-2", enc_ref.clone()).await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("not trusted") && out.stderr.contains("/usr/sbin/runc"),
        "eu-2: {}",
        out.stderr
    );

    // The command transport on a node forwards to the agent's socket (after the refusal
    // window, so this is a decision of its own).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let dec_cmd = work.join("dec-cmd.json");
    write_json(
        &dec_cmd,
        serde_json::json!({"key-providers": {"ironroot": {"cmd": {"path": bin, "args": ["--agent-socket", work.join("us-1.sock")]}}}}),
    );
    let out = skopeo(
        &work,
        &dec_cmd,
        &[
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--decryption-key",
            "provider:ironroot",
            &enc_ref,
            &format!("oci:{}:x", work.join("us-cmd").display()),
        ],
    )
    .await;
    assert!(
        !out.ok && out.stderr.contains("region=US"),
        "{}",
        out.stderr
    );

    // Every decision is in the broker's log.
    let log: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases?key=eu-app").await.unwrap();
    let mut summary: Vec<(String, bool)> = log
        .iter()
        .map(|r| (r.hostname.clone().unwrap(), r.released))
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            ("eu-1".to_string(), true),
            ("eu-2".to_string(), false),
            ("us-1".to_string(), false),
            ("us-1".to_string(), false),
        ]
    );
    // One decision per pull, whatever the number of layers; refusals are not remembered.
    assert_eq!(unwrappers[1].releases(), 2);
    assert_eq!(unwrappers[2].releases(), 1);
}
