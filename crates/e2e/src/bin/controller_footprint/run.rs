//! The benchmark's run: the control plane and its Nodes, the service and its hosts, the
//! controller process, and the three measured phases.

use super::{attest_all, create_nodes, read_proc, set_uuids, wait_for, watch_nodes, Proc, Reading};
use super::{PARALLEL, SCRIPT_NODES};
use anyhow::{bail, ensure, Context};
use ironroot_api::BindNode;
use ironroot_loadgen::conn::Target;
use ironroot_loadgen::node::{FleetImage, SimNode};
use ironroot_testkit::{AkKind, HostImage, ImageSize};
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `ironroot server` with benchmark enrollment, on a free loopback port.
struct Service {
    _proc: Proc,
    url: String,
    target: Target,
    ca: PathBuf,
    token_file: PathBuf,
    token: String,
}

async fn start_service(bin: &Path, dir: &Path) -> anyhow::Result<Service> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let data = dir.join("service");
    let log = std::fs::File::create(dir.join("service.log"))?;
    let child = std::process::Command::new(bin)
        .args([
            "server",
            "--listen",
            &addr,
            "--ek-cert-policy",
            "if-present",
        ])
        .arg("--data")
        .arg(&data)
        // Trust outlasts the run: what changes a Node here is only what the run does.
        .args(["--trust-validity", "3600", "--interval", "600"])
        .arg("--allow-bench-enrollment")
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let mut proc = Proc(child);
    let (ca, token_file) = (data.join("ca.pem"), data.join("admin.token"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ca.exists() && token_file.exists() && tokio::net::TcpStream::connect(&addr).await.is_ok()
        {
            break;
        }
        if proc.0.try_wait()?.is_some() || Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("service.log")).unwrap_or_default();
            bail!(
                "ironroot server did not start (built with --features bench-enrollment?):\n{log}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ca_pem: Arc<[u8]> = std::fs::read(&ca)?.into();
    Ok(Service {
        _proc: proc,
        url: format!("https://{addr}"),
        target: Target {
            addr: addr.parse()?,
            server_name: rustls_pki_types::ServerName::try_from("127.0.0.1".to_owned())?,
            authority: addr,
            ca_pem,
        },
        token: std::fs::read_to_string(&token_file)?.trim().to_owned(),
        ca,
        token_file,
    })
}

/// Enrolls `n` hosts, makes flavors from the first, has each attest once (trusted) and
/// binds host i to Node `node-(i+1)`.
async fn hosts(svc: &Service, n: usize, fleet: &Arc<FleetImage>) -> anyhow::Result<Vec<SimNode>> {
    let targets = [svc.target.clone()];
    let mut hosts = ironroot_loadgen::fleet::enroll(&targets, n, AkKind::EcdsaP256).await?;
    let golden = hosts.first_mut().context("no host")?;
    ironroot_loadgen::fleet::flavors_from(&targets, fleet, golden, &svc.token).await?;
    let (hosts, trusted) = attest_all(hosts, &targets, fleet.clone(), None).await?;
    ensure!(
        trusted == n,
        "{trusted} of {n} hosts trusted after attesting"
    );
    let admin = ironroot_client::Client::admin(
        &svc.url,
        &std::fs::read(&svc.ca)?,
        &svc.token,
        ironroot_client::PlainHttp::Refused,
    )?;
    let ids: Vec<(usize, String)> = hosts
        .iter()
        .map(|h| h.host_id.clone())
        .enumerate()
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for chunk in ids.chunks(n.div_ceil(PARALLEL)) {
        let (admin, chunk) = (admin.clone(), chunk.to_vec());
        set.spawn(async move {
            for (i, id) in chunk {
                let node = format!("node-{}", i + 1);
                admin.bind_node(&id, &BindNode { node }).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(hosts)
}

fn row(phase: &str, process: &str, a: &Reading, b: &Reading) {
    let wall = b.at.duration_since(a.at).as_secs_f64();
    let cpu = b.cpu - a.cpu;
    println!(
        "| {phase} | {process} | {wall:.1} | {cpu:.2} | {:.1} % | {:.1} | {:.1} |",
        100.0 * cpu / wall.max(1e-9),
        b.rss_kib as f64 / 1024.0,
        b.hwm_kib as f64 / 1024.0
    );
}

pub async fn run(bin: &Path, n: usize, flip: usize, steady: Duration) -> anyhow::Result<()> {
    ironroot_tls::install_process_provider();
    let tps = ironroot_loadgen::procstat::ticks_per_second();
    let dir = ironroot_e2e::TempDir::new("footprint")?;
    let t = Instant::now();
    let cluster = ironroot_peers::kube::Cluster::start(SCRIPT_NODES).await?;
    let kube = ironroot_controller::run::kube_client(Some(cluster.kubeconfig())).await?;
    let api: Api<Node> = Api::all(kube);
    let mut rx = watch_nodes(api.clone());
    set_uuids(&api, SCRIPT_NODES).await?;
    create_nodes(&api, SCRIPT_NODES + 1, n).await?;
    wait_for(&mut rx, "every Node Ready", Duration::from_secs(600), |c| {
        c.nodes == n && c.ready == n
    })
    .await?;
    println!(
        "control plane and {n} kwok Nodes Ready: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let svc = start_service(bin, &dir.0).await?;
    let image = |boot_events| -> anyhow::Result<Arc<FleetImage>> {
        let host = HostImage::build(ImageSize {
            boot_events,
            ..ImageSize::SMALL
        })?;
        Ok(Arc::new(FleetImage::new(host).map_err(anyhow::Error::msg)?))
    };
    let fleet = image(ImageSize::SMALL.boot_events)?;
    let hosts = hosts(&svc, n, &fleet).await?;
    println!(
        "{n} hosts enrolled, trusted and bound: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let log = std::fs::File::create(dir.0.join("controller.log"))?;
    let start = Instant::now();
    let ctl = Proc(
        std::process::Command::new(bin)
            .args(["controller", "--server", &svc.url, "--ca"])
            .arg(&svc.ca)
            .arg("--token-file")
            .arg(&svc.token_file)
            .arg("--kubeconfig")
            .arg(cluster.kubeconfig())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?,
    );
    let pid = ctl.0.id();
    // The baseline: kube-scheduler of the same cluster, a Go informer-based component that
    // also watches every Node (and every Pod), read at the same moments.
    let sched_file = cluster
        .kubeconfig()
        .parent()
        .context("the cluster's directory")?
        .join("kube-scheduler.pid");
    let sched: u32 = std::fs::read_to_string(&sched_file)
        .with_context(|| format!("reading {}", sched_file.display()))?
        .trim()
        .parse()?;
    let both = || -> anyhow::Result<(Reading, Reading)> {
        Ok((read_proc(pid, tps)?, read_proc(sched, tps)?))
    };
    let (r0, s0) = both()?;
    wait_for(
        &mut rx,
        "every Node labelled trusted",
        Duration::from_secs(600),
        |c| c.trusted == n,
    )
    .await?;
    let (r1, s1) = both()?;
    let first = start.elapsed();

    // Steady state: every host attests again, spread over the window.
    let targets = vec![svc.target.clone()];
    let reports0 = rx.borrow().reports;
    let again = tokio::spawn({
        let (targets, fleet) = (targets.clone(), fleet.clone());
        async move { attest_all(hosts, &targets, fleet, Some(steady.mul_f64(0.9))).await }
    });
    let (mut rss_min, mut rss_max) = (u64::MAX, 0);
    while r1.at.elapsed() < steady {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let r = read_proc(pid, tps)?;
        (rss_min, rss_max) = (rss_min.min(r.rss_kib), rss_max.max(r.rss_kib));
    }
    let (r2, s2) = both()?;
    let (mut hosts, trusted) = again.await??;
    ensure!(
        trusted == n,
        "{trusted} of {n} hosts trusted in the steady state"
    );
    let reports = rx.borrow().reports - reports0;

    // Burst: FLIP hosts attest with a changed boot log.
    let tampered = image(ImageSize::SMALL.boot_events + 1)?;
    let flipping = hosts.split_off(n - flip);
    let (r3, s3) = both()?;
    let (_, still) = attest_all(flipping, &targets, tampered, None).await?;
    ensure!(
        still == 0,
        "{still} of {flip} hosts stayed trusted with a changed boot log"
    );
    let verdicts = r3.at.elapsed();
    wait_for(
        &mut rx,
        "the flipped Nodes labelled untrusted",
        Duration::from_secs(300),
        |c| c.untrusted == flip && c.trusted == n - flip,
    )
    .await?;
    let (r4, s4) = both()?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (r5, s5) = both()?;

    println!("\ncontroller (pid {pid}) and, as the baseline, kube-scheduler (pid {sched}); {n} Nodes, {flip} flipping:");
    println!(
        "| phase | process | wall s | CPU s | CPU (one core) | VmRSS at end MiB | VmHWM MiB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let phases = [
        (
            format!("first reconcile: start -> {n} Nodes trusted"),
            (&r0, &s0),
            (&r1, &s1),
        ),
        (
            format!("steady state: {n} re-attestations, {reports} reports republished"),
            (&r1, &s1),
            (&r2, &s2),
        ),
        (
            format!("burst: {flip} untrusted verdicts -> {flip} Nodes untrusted"),
            (&r3, &s3),
            (&r4, &s4),
        ),
        (
            "after the burst (drains, brake)".to_string(),
            (&r4, &s4),
            (&r5, &s5),
        ),
    ];
    for (phase, (a, sa), (b, sb)) in &phases {
        row(phase, "controller", a, b);
        row(phase, "kube-scheduler", sa, sb);
    }
    let cpu = |a: &Reading, b: &Reading| b.cpu - a.cpu;
    println!(
        "\nratio controller / kube-scheduler: VmRSS {:.2} at the end; CPU {:.2} in the steady state, {:.2} over the whole run",
        r5.rss_kib as f64 / s5.rss_kib.max(1) as f64,
        cpu(&r1, &r2) / cpu(&s1, &s2).max(1e-9),
        cpu(&r0, &r5) / cpu(&s0, &s5).max(1e-9),
    );
    println!(
        "\nfirst reconcile {:.2} s; steady VmRSS {:.1}-{:.1} MiB; burst: verdicts in {:.2} s, every Node untrusted {:.2} s after the first tampered attestation",
        first.as_secs_f64(),
        rss_min as f64 / 1024.0,
        rss_max as f64 / 1024.0,
        verdicts.as_secs_f64(),
        r4.at.duration_since(r3.at).as_secs_f64()
    );
    drop(ctl);
    Ok(())
}
