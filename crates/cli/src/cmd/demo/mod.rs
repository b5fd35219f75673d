//! `ironroot demo`: a whole local platform on one machine. An attestation service on
//! SQLite, three development nodes each with its own swtpm and trust agent, known-good
//! values taken from node 1, all three trusted; then node 3's container runtime is
//! replaced and the demo shows it losing trust, with the rule, expected and seen values.
//! Around that tamper, three acts: an encrypted image that only trusted nodes in the
//! right region can run (images.rs: tagged and encrypted before, pulled after); a real
//! Kubernetes control plane whose Nodes carry that trust, where the image is placed by
//! its key's region and the tampered node is tainted and drained (kubernetes.rs); and
//! image assurance: scans whose inventories the service keeps and rescans on its own
//! when its vulnerability database changes (assurance.rs).

mod assurance;
mod images;
mod kubernetes;
mod procs;

use super::admin::{hosts_table, report_text, AdminClient};
use anyhow::{bail, Context};
use ironroot_api::{FlavorList, FlavorsFromHostRequest, HostSummary, ReportRecord, TrustState};
use ironroot_devnode::NodeLayout;
use ironroot_tpm::swtpm::{SetupOptions, Swtpm};
use ironroot_tpm::{AkConfig, EsapiTpm};
use procs::Children;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Run the local platform end to end and stop everything it started.
#[derive(clap::Args)]
pub struct Args {
    /// Working directory (recreated): service data, node directories, TPM state, logs.
    #[arg(long, default_value = ".demo")]
    dir: PathBuf,
    /// Number of nodes (the last one is tampered with).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Keep everything running after the demo until Ctrl-C, to explore with the CLI
    /// and kubectl.
    #[arg(long)]
    keep_running: bool,
}

fn step(msg: &str) {
    println!("\n==> {msg}");
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Node {
    name: String,
    dir: PathBuf,
    _tpm: Swtpm,
}

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !Swtpm::available() {
        bail!("swtpm is not installed: run `make demo`, which installs it, or `apt-get install swtpm swtpm-tools`");
    }
    if a.nodes < 2 {
        bail!("the demo needs at least two nodes (one golden, one tampered)");
    }
    let dir = std::path::absolute(&a.dir)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir.join("logs"))?;
    let exe = std::env::current_exe()?;
    let mut children = Children::new(dir.join("logs"));
    // About 10 s of its own: it starts while the nodes boot.
    let control_plane = kubernetes::start_control_plane(a.nodes)?;

    step(&format!(
        "Booting {} development nodes, each with its own software TPM (swtpm)",
        a.nodes
    ));
    let mut nodes = Vec::new();
    let mut ek_cas = Vec::new();
    for i in 1..=a.nodes {
        nodes.push(boot_node(&dir, i, &exe, &mut ek_cas).await?);
    }

    step("Starting the attestation service (SQLite, TLS, EK certificates required)");
    let port = free_port()?;
    let url = format!("https://127.0.0.1:{port}");
    let data = dir.join("service");
    let mut args: Vec<String> = vec![
        "server".into(),
        "--data".into(),
        data.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--trust-validity".into(),
        "10".into(),
        "--interval".into(),
        "3".into(),
        // The image-assurance act's database (a small one of real advisories from 2023
        // and 2024, hence the generous age), checked every 2 s for a new generation.
        "--vulndb".into(),
        assurance::vulndb_dir(&dir).display().to_string(),
        "--vulndb-poll".into(),
        "2s".into(),
        "--max-db-age".into(),
        "3650d".into(),
    ];
    for ca in &ek_cas {
        args.push("--ek-ca".into());
        args.push(ca.display().to_string());
    }
    children.spawn("service", &exe, &args)?;
    let ca = wait_for_file(&data.join("ca.pem"), Duration::from_secs(20)).await?;
    let token = wait_for_file(&data.join("admin.token"), Duration::from_secs(5)).await?;
    let admin = AdminClient::from_parts(&url, &ca, String::from_utf8_lossy(&token).trim())?;
    wait_until(Duration::from_secs(20), || async {
        admin.hosts().await.is_ok()
    })
    .await
    .context("the service did not come up")?;
    println!(
        "    service: {url}  (CA: {}, admin token: {})",
        data.join("ca.pem").display(),
        data.join("admin.token").display()
    );

    step("Starting a trust agent on every node: enrollment with MakeCredential/ActivateCredential, then attestation");
    // Nodes run the slim agent binary, as a DaemonSet would: it links only the agent.
    let agent_exe = exe.with_file_name("ironroot-agent");
    if !agent_exe.exists() {
        bail!("{} is missing: `make demo` builds it", agent_exe.display());
    }
    for n in &nodes {
        let args: Vec<String> = vec![
            "--server".into(),
            url.clone(),
            "--ca".into(),
            data.join("ca.pem").display().to_string(),
            "--tcti".into(),
            n._tpm.tcti(),
            "--state".into(),
            n.dir.join("agent").display().to_string(),
            "--hostname".into(),
            n.name.clone(),
            "--dev-node".into(),
            n.dir.display().to_string(),
            "--keyprovider-socket".into(),
            images::socket_for(&n.dir).display().to_string(),
        ];
        children.spawn(&n.name, &agent_exe, &args)?;
    }
    let count = nodes.len();
    wait_until(Duration::from_secs(60), || async {
        admin
            .hosts()
            .await
            .is_ok_and(|h| h.len() == count && h.iter().all(|h| h.last_report_id.is_some()))
    })
    .await
    .context("not every node enrolled and attested (see the logs in the demo directory)")?;
    println!("{}", hosts_table(&admin.hosts().await?));
    println!("    (no known-good values yet, so no node can be trusted)");

    step(&format!(
        "Taking known-good values (flavors) from the golden host {}",
        nodes[0].name
    ));
    let req = FlavorsFromHostRequest {
        host_id: nodes[0].name.clone(),
        label: "golden".into(),
        parts: vec![],
        flavor_group: None,
    };
    let created: FlavorList = admin.post("/v1/flavors/from-host", &req).await?;
    for f in &created.flavors {
        println!(
            "    {} flavor {} ({} rules)",
            f["meta"]["part"].as_str().unwrap_or(""),
            f["id"].as_str().unwrap_or(""),
            f["rules"].as_array().map(Vec::len).unwrap_or(0)
        );
    }
    wait_until(Duration::from_secs(30), || async {
        admin
            .hosts()
            .await
            .is_ok_and(|h| h.iter().all(|h| h.trust == TrustState::Trusted))
    })
    .await
    .context("not every node became trusted")?;
    println!("{}", hosts_table(&admin.hosts().await?));
    let cpu_before: Vec<(String, Option<u64>)> = children
        .pids()
        .into_iter()
        .map(|(n, p)| (n, procs::cpu_ms(p)))
        .collect();
    let quiet = Instant::now();
    step("Letting the trusted platform run for 5 seconds (agents attest every 3 s)");
    tokio::time::sleep(Duration::from_secs(5)).await;
    procs::print_usage(&children, &cpu_before, quiet.elapsed());

    let victim = nodes.last().context("no nodes")?;
    let images = images::Setup {
        dir: &dir,
        url: &url,
        service_data: &data,
        admin: &admin,
        nodes: nodes
            .iter()
            .map(|n| (n.name.clone(), images::socket_for(&n.dir)))
            .collect(),
        victim: &victim.name,
    };
    let prepared = images::prepare(&images)
        .await
        .context("the encrypted-image act")?;
    let kube_setup = kubernetes::Setup {
        admin: &admin,
        service_url: &url,
        service_data: &data,
        logs: &dir.join("logs"),
        nodes: nodes.iter().map(|n| n.name.clone()).collect(),
        us_node: &nodes[1].name,
        victim: &victim.name,
        enc_image: prepared.enc_image(),
        plain_image: &prepared.plain_image,
    };
    let kube = kubernetes::Act::start(control_plane, &kube_setup)
        .await
        .context("the Kubernetes act")?;
    let probe = kube.probe(&victim.name);
    step(&format!(
        "Tampering with {}: replacing its container runtime binary /usr/sbin/runc",
        victim.name
    ));
    let runc = NodeLayout::new(&victim.dir)
        .runtime_dir()
        .join("usr/sbin/runc");
    let mut bytes = std::fs::read(&runc)?;
    bytes.extend_from_slice(b"\n# implant\n");
    let started = Instant::now();
    std::fs::write(&runc, bytes)?;
    let victim_name = victim.name.clone();
    wait_until(Duration::from_secs(30), || async {
        admin.hosts().await.is_ok_and(|h| {
            h.iter()
                .any(|h| h.hostname == victim_name && h.trust == TrustState::Untrusted)
        })
    })
    .await
    .context("the tampered node was not detected")?;
    let detected = started.elapsed();
    let hosts = admin.hosts().await?;
    println!("{}", hosts_table(&hosts));
    println!(
        "\n    {} detected as untrusted {:.2} s after tampering.",
        victim.name,
        detected.as_secs_f64()
    );
    show_failure(&admin, &hosts, &victim.name).await?;
    kube.after_tamper(probe, started, &kube_setup)
        .await
        .context("the Kubernetes act")?;
    images::pulls(&images, &prepared)
        .await
        .context("the encrypted-image act")?;
    assurance::act(assurance::Setup {
        dir: &dir,
        exe: &exe,
        url: &url,
        service_data: &data,
        admin: &admin,
    })
    .await
    .context("the image-assurance act")?;
    step("The dashboard (docs/dashboard.md)");
    println!(
        "    {url}/dashboard/  sign in with the token in {}; the browser must trust {}{}",
        data.join("admin.token").display(),
        data.join("ca.pem").display(),
        if a.keep_running {
            ""
        } else {
            "\n    (it stops with the demo: `ironroot demo --keep-running` leaves it up)"
        }
    );
    if a.keep_running {
        step("Everything keeps running; press Ctrl-C to stop. Try:");
        println!(
            "    ironroot host list --server {url} --ca {} --token-file {}",
            data.join("ca.pem").display(),
            data.join("admin.token").display()
        );
        println!("{}", kube.explore_hint());
        tokio::signal::ctrl_c().await?;
    }
    step("Stopping every process the demo started");
    drop(kube);
    drop(prepared);
    children.stop_all();
    drop(nodes);
    println!("    done. Logs are in {}", dir.join("logs").display());
    Ok(ExitCode::SUCCESS)
}

async fn boot_node(
    dir: &Path,
    i: usize,
    exe: &Path,
    ek_cas: &mut Vec<PathBuf>,
) -> anyhow::Result<Node> {
    let name = format!("node-{i}");
    let ndir = dir.join(&name);
    let tpm_state = ndir.join("tpm");
    std::fs::create_dir_all(&tpm_state)?;
    let ca = Swtpm::setup(
        &tpm_state,
        &SetupOptions {
            ek_certs: true,
            ..Default::default()
        },
    )
    .with_context(|| format!("swtpm_setup for {name}"))?;
    ek_cas.push(ca.root_cert.clone());
    ek_cas.push(ca.issuer_cert.clone());
    let tpm = Swtpm::start(&tpm_state).with_context(|| format!("starting swtpm for {name}"))?;
    let layout = NodeLayout::create(&ndir, "ironroot-devplatform-v1", &name, Some(exe))?;
    std::fs::write(ndir.join("hardware_uuid"), super::node::uuid_for(&name))?;
    let tcti = tpm.tcti();
    let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut t = EsapiTpm::open(&tcti, AkConfig::default())?;
        Ok(ironroot_devnode::boot(&layout, &mut t)?)
    })
    .await??;
    println!(
        "    {name}: swtpm on {}, {} boot events and {} IMA measurements",
        tpm.tcti(),
        summary.events,
        summary.ima_entries
    );
    Ok(Node {
        name,
        dir: ndir,
        _tpm: tpm,
    })
}

async fn show_failure(
    admin: &AdminClient,
    hosts: &[HostSummary],
    name: &str,
) -> anyhow::Result<()> {
    let Some(h) = hosts.iter().find(|h| h.hostname == name) else {
        return Ok(());
    };
    let Some(id) = &h.last_report_id else {
        return Ok(());
    };
    let rec: ReportRecord = admin.get(&format!("/v1/reports/{id}")).await?;
    let report: ironroot_verifier::TrustReport = serde_json::from_value(rec.report)?;
    println!("\n    Latest signed trust report of {name}:\n");
    for line in report_text(&report).lines() {
        println!("    {line}");
    }
    Ok(())
}

async fn wait_for_file(p: &Path, limit: Duration) -> anyhow::Result<Vec<u8>> {
    let start = Instant::now();
    loop {
        if let Ok(b) = std::fs::read(p) {
            if !b.is_empty() {
                return Ok(b);
            }
        }
        if start.elapsed() > limit {
            bail!("{} did not appear within {:?}", p.display(), limit);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until<F, Fut>(limit: Duration, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        if start.elapsed() > limit {
            bail!("timed out after {limit:?}");
        }
        // Fine enough to time a detection that takes a tenth of a second.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
