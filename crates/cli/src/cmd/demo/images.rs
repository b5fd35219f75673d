//! The demo's encrypted-image act (brief R3, R6-R8): nodes are tagged by region, an image
//! is encrypted with skopeo through the ironroot key provider under a key whose policy
//! requires a trusted node tagged `region=EU`, pushed to a registry on loopback, and every
//! node tries to pull, decrypt and run it. Real peers throughout: Debian 13's skopeo 1.18
//! in a chroot, `docker-registry`, podman with runc, and each node's swtpm behind its agent.
//! In two halves around the Kubernetes act, which places the same image: [`prepare`] (tags,
//! registry, encryption) before node 3 is tampered, [`pulls`] after.

use super::{step, wait_until};
use crate::cmd::admin::AdminClient;
use crate::peers::{run, scripts_dir, skopeo, skopeo_rootfs_ready, Podman, Registry};
use anyhow::{bail, Context};
use ironroot_api::{HostSummary, IssuedTag, ReleaseRecord, TagRequest};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Setup<'a> {
    pub dir: &'a Path,
    pub url: &'a str,
    pub service_data: &'a Path,
    pub admin: &'a AdminClient,
    /// Node name and its agent's keyprovider socket.
    pub nodes: Vec<(String, PathBuf)>,
    pub victim: &'a str,
}

pub(super) fn socket_for(node_dir: &Path) -> PathBuf {
    node_dir.join("kp.sock")
}

/// The sentence a platform engineer needs from skopeo's long error chain.
fn reason(stderr: &str) -> String {
    let s = stderr.trim();
    let from = ["the ironroot broker", "ironroot-keyprovider: ", "desc = "]
        .iter()
        .find_map(|m| s.find(m))
        .unwrap_or(0);
    // skopeo quotes the chain: cut at its first (escaped or real) line break.
    let tail = &s[from..];
    let end = [tail.find("\\n"), tail.find('\n')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(tail.len());
    tail[..end].trim_end_matches('"').replace("\\\"", "\"")
}

fn write_json(p: &Path, v: serde_json::Value) -> anyhow::Result<()> {
    std::fs::write(p, serde_json::to_vec_pretty(&v)?)?;
    Ok(())
}

/// The registry (stopped when dropped) and the images pushed to it.
pub(super) struct Prepared {
    _registry: Registry,
    work: PathBuf,
    /// `docker://127.0.0.1:PORT/payments:enc`, sealed under a key for region=EU.
    pub enc_ref: String,
    /// The same image unencrypted, `127.0.0.1:PORT/web:1`.
    pub plain_image: String,
}

impl Prepared {
    /// The encrypted image as a pod names it (no transport prefix).
    pub fn enc_image(&self) -> &str {
        self.enc_ref.trim_start_matches("docker://")
    }
}

/// Tags every node, starts the registry and pushes the encrypted (and a plain) image.
pub(super) async fn prepare(s: &Setup<'_>) -> anyhow::Result<Prepared> {
    if !skopeo_rootfs_ready() {
        bail!("the Debian 13 root filesystem with skopeo 1.18 is missing: run `make demo` (scripts/install-deps.sh builds it)");
    }
    let hosts: Vec<HostSummary> = s.admin.hosts().await?;
    let id_of = |name: &str| {
        hosts
            .iter()
            .find(|h| h.hostname == name)
            .map(|h| h.host_id.clone())
            .with_context(|| format!("{name} is not enrolled"))
    };

    step("Asset tags: the service certifies each node's region; the agent writes the tag's digest into TPM NV index 0x01C10110, and every quote covers it");
    for (i, (name, _)) in s.nodes.iter().enumerate() {
        let region = if i == 1 { "US" } else { "EU" };
        let req = TagRequest {
            tags: BTreeMap::from([("region".to_string(), region.to_string())]),
        };
        let t: IssuedTag = s
            .admin
            .post(&format!("/v1/hosts/{}/tags", id_of(name)?), &req)
            .await?;
        println!(
            "    {name}: region={region} (certificate {}, digest {}…)",
            t.serial,
            &t.digest[..16]
        );
    }

    let work = s.dir.join("images");
    std::fs::create_dir_all(&work)?;
    step("Starting an OCI registry (docker-registry) on loopback and building a two-layer image");
    let registry = Registry::start(&work.join("registry")).await?;
    let (enc_ref, plain_image) = build_and_encrypt(s, &work, &registry.addr).await?;
    Ok(Prepared {
        _registry: registry,
        work,
        enc_ref,
        plain_image,
    })
}

/// Builds the image, pushes it encrypted under `payments-eu` and plain as `web:1`.
async fn build_and_encrypt(
    s: &Setup<'_>,
    work: &Path,
    reg: &str,
) -> anyhow::Result<(String, String)> {
    let layers = work.join("layers");
    std::fs::create_dir_all(layers.join("1/bin"))?;
    std::fs::copy("/bin/busybox", layers.join("1/bin/busybox"))
        .context("copying /bin/busybox (install busybox-static)")?;
    let _ = std::fs::remove_file(layers.join("1/bin/sh"));
    std::os::unix::fs::symlink("busybox", layers.join("1/bin/sh"))?;
    std::fs::create_dir_all(layers.join("2/etc"))?;
    std::fs::write(
        layers.join("2/etc/motd"),
        "payments-eu: running on an attested EU node\n",
    )?;
    let img = work.join("app");
    let built = run(
        tokio::process::Command::new(scripts_dir().join("make-test-image.sh"))
            .arg("--gzip")
            .arg(&img)
            .arg(layers.join("1"))
            .arg(layers.join("2")),
    )
    .await?;
    if !built.ok {
        bail!("building the image: {}", built.stderr.trim());
    }
    println!(
        "    registry: {reg}; image: {} (busybox + /etc/motd)",
        img.display()
    );

    // The build host's key provider: the broker's URL and the admin token, nothing else.
    let exe = std::env::current_exe()?;
    let provider = exe.with_file_name("ironroot-keyprovider");
    if !provider.exists() {
        bail!("{} is missing: `make demo` builds it", provider.display());
    }
    let bin = work.join("ironroot-keyprovider");
    std::fs::copy(&provider, &bin)?;
    std::fs::copy(s.service_data.join("ca.pem"), work.join("ca.pem"))?;
    std::fs::copy(s.service_data.join("admin.token"), work.join("token"))?;
    let enc_kp = work.join("ocicrypt-build.json");
    write_json(
        &enc_kp,
        serde_json::json!({"key-providers": {"ironroot": {"cmd": {"path": bin, "args": [
            "--server", s.url, "--ca", work.join("ca.pem"), "--token-file", work.join("token")]}}}}),
    )?;
    let spec = "provider:ironroot:payments-eu+tag:region=EU";
    step(&format!(
        "Encrypting with the ordinary tool: skopeo copy --encryption-key {spec} oci:app docker://{reg}/payments:enc"
    ));
    let enc_ref = format!("docker://{reg}/payments:enc");
    let src = format!("oci:{}:latest", img.display());
    let out = skopeo(
        s.dir,
        &enc_kp,
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--encryption-key",
            spec,
            &src,
            &enc_ref,
        ],
    )
    .await?;
    if !out.ok {
        bail!("skopeo could not encrypt: {}", out.stderr.trim());
    }
    println!("    pushed; the broker created key payments-eu (released only to trusted nodes tagged region=EU);");
    println!("    the layers are AES-256-CTR+HMAC, their keys sealed by the broker: the build host never held the key");
    // The Kubernetes act's unencrypted workload needs an image the webhook can read too.
    let plain = format!("{reg}/web:1");
    let out = skopeo(
        s.dir,
        &enc_kp,
        &[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            &src,
            &format!("docker://{plain}"),
        ],
    )
    .await?;
    if !out.ok {
        bail!(
            "skopeo could not push the plain image: {}",
            out.stderr.trim()
        );
    }
    Ok((enc_ref, plain))
}

/// Every node pulls, decrypts and runs the encrypted image; only trusted EU nodes can.
pub(super) async fn pulls(s: &Setup<'_>, p: &Prepared) -> anyhow::Result<()> {
    let (work, enc_ref) = (&p.work, &p.enc_ref);
    // Kept from tempfile's cleanup: Podman removes its containers, then the directory, on drop.
    let podman = Podman::new(
        tempfile::Builder::new()
            .prefix("ironroot-demo-pm-")
            .tempdir()
            .context("cannot create podman's directory")?
            .keep(),
    );
    let mut ran_on = Vec::new();
    for (name, socket) in &s.nodes {
        // Each agent must have synchronised its tag into the TPM before asking.
        wait_until(Duration::from_secs(20), || async { socket.exists() })
            .await
            .with_context(|| format!("{name}'s agent did not open {}", socket.display()))?;
        step(&format!(
            "{name} pulls and decrypts: skopeo copy --decryption-key provider:ironroot {enc_ref} ... (its agent asks the broker with a fresh quote)"
        ));
        let kp = work.join(format!("ocicrypt-{name}.json"));
        write_json(
            &kp,
            serde_json::json!({"key-providers": {"ironroot": {"grpc": format!("unix://{}", socket.display())}}}),
        )?;
        let archive = work.join(format!("{name}.tar"));
        let dst = format!(
            "oci-archive:{}:localhost/demo/payments:{name}",
            archive.display()
        );
        let out = skopeo(
            s.dir,
            &kp,
            &[
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                "--decryption-key",
                "provider:ironroot",
                enc_ref,
                &dst,
            ],
        )
        .await?;
        if !out.ok {
            println!("    REFUSED: {}", reason(&out.stderr));
            continue;
        }
        let image = podman.load(&archive).await?;
        let started = podman
            .run(&image, &["/bin/busybox", "cat", "/etc/motd"])
            .await?;
        if !started.ok {
            bail!("podman run failed: {}", started.stderr.trim());
        }
        println!(
            "    decrypted; podman (runc) ran it and it printed: {}",
            started.stdout.trim()
        );
        ran_on.push(name.clone());
    }
    drop(podman);

    step("The broker's log of releases and refusals (GET /v1/keys/releases)");
    let log: Vec<ReleaseRecord> = s.admin.get("/v1/keys/releases?key=payments-eu").await?;
    for r in log.iter().rev() {
        println!(
            "    {:<8} {:<9} report {}  {}",
            r.hostname.as_deref().unwrap_or("-"),
            if r.released { "released" } else { "refused" },
            r.report_id
                .as_deref()
                .map(|id| &id[..id.len().min(8)])
                .unwrap_or("-"),
            if r.released { "" } else { r.reason.as_str() }
        );
    }
    let expected: Vec<String> = s
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, (n, _))| *i != 1 && n != s.victim)
        .map(|(_, (n, _))| n.clone())
        .collect();
    if ran_on != expected {
        bail!("the image ran on {ran_on:?}, but only {expected:?} should have run it");
    }
    Ok(())
}
