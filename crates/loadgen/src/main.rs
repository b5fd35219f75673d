//! `ironroot-loadgen`: plays a fleet of nodes against a running attestation service (built
//! with `bench-enrollment`, started with `--allow-bench-enrollment`) and prints the
//! achieved rate, latency percentiles, errors, and the service's CPU and memory.

use clap::Parser;
use ironroot_loadgen::conn::Target;
use ironroot_loadgen::runner::Step;
use ironroot_loadgen::{report, Options};
use ironroot_testkit::{AkKind, ImageSize};
use rustls_pki_types::ServerName;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes: 0 every measured step met the p99 limit; 1 error; 2 a step missed it.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The service, as host:port (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8443")]
    server: String,
    /// The service CA (ca.pem in the service's data directory).
    #[arg(long)]
    ca: PathBuf,
    /// The administrator token file (admin.token in the data directory).
    #[arg(long)]
    admin_token: PathBuf,
    /// The service's process id, for its CPU and memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Simulated nodes, each with its own AK, certificate and connection.
    #[arg(long, default_value_t = 2000)]
    nodes: usize,
    /// Fleet attestation rates per second, one step each (several: a ramp).
    #[arg(long, value_delimiter = ',', default_value = "1700")]
    rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 60.0)]
    step_secs: f64,
    /// Seconds at the start of each step left out of its figures.
    #[arg(long, default_value_t = 5.0)]
    settle_secs: f64,
    /// Unmeasured seconds at the first rate before the first step.
    #[arg(long, default_value_t = 10.0)]
    warmup_secs: f64,
    /// Each interval varies uniformly by this fraction either way.
    #[arg(long, default_value_t = 0.1)]
    jitter: f64,
    /// Files in each node's IMA list.
    #[arg(long, default_value_t = 50)]
    ima_files: usize,
    /// Events in each node's boot log (at least 93).
    #[arg(long, default_value_t = 100)]
    boot_events: usize,
    /// AK algorithm: ecdsa-p256 or rsa2048.
    #[arg(long, default_value = "ecdsa-p256", value_parser = ["ecdsa-p256", "rsa2048"])]
    ak: String,
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// Steps still run after the first whose p99 passed the limit.
    #[arg(long, default_value_t = 1)]
    steps_after_breach: usize,
    #[arg(long, default_value_t = 10.0)]
    timeout_secs: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e.into()),
    };
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("ironroot-loadgen: {e:#}");
    ExitCode::FAILURE
}

async fn run(a: Args) -> anyhow::Result<ExitCode> {
    let host = a
        .server
        .rsplit_once(':')
        .map_or(a.server.as_str(), |(h, _)| h);
    let addr = a
        .server
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} resolves to no address", a.server))?;
    let target = Target {
        addr,
        server_name: ServerName::try_from(host.to_owned())?,
        authority: a.server.clone(),
        ca_pem: std::fs::read(&a.ca)?.into(),
    };
    let step = |rate, secs: f64, measured| Step {
        rate,
        duration: Duration::from_secs_f64(secs),
        measured,
    };
    let first = a.rates.first().copied().unwrap_or(1700.0);
    let opts = Options {
        target,
        admin_token: std::fs::read_to_string(&a.admin_token)?.trim().to_owned(),
        server_pid: a.server_pid,
        nodes: a.nodes,
        ak: if a.ak == "rsa2048" {
            AkKind::Rsa2048
        } else {
            AkKind::EcdsaP256
        },
        image: ImageSize {
            boot_events: a.boot_events,
            ima_files: a.ima_files,
        },
        warmup: step(first, a.warmup_secs, false),
        steps: a
            .rates
            .iter()
            .map(|r| step(*r, a.step_secs, true))
            .collect(),
        settle: Duration::from_secs_f64(a.settle_secs),
        jitter: a.jitter.clamp(0.0, 0.9),
        timeout: Duration::from_secs_f64(a.timeout_secs),
        p99_limit: Duration::from_secs_f64(a.p99_limit_ms / 1e3),
        steps_after_breach: a.steps_after_breach,
    };
    let limit = opts.p99_limit;
    println!(
        "{} nodes ({} AK), {:.0} s steps (first {:.0} s of each left out), jitter ±{:.0}%, open loop: latency from the scheduled time",
        a.nodes, a.ak, a.step_secs, a.settle_secs, opts.jitter * 100.0
    );
    let reports = ironroot_loadgen::run(opts, |l| println!("{l}")).await?;
    println!("\nsummary (measured steps):\n{}", report::HEADER);
    for r in &reports {
        println!("{}", r.row());
        for (kind, n) in &r.errors {
            println!("    error {kind}: {n}");
        }
    }
    let best = reports
        .iter()
        .filter(|r| r.p99 <= limit)
        .map(|r| r.achieved_rate)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    match best {
        Some(rate) => println!(
            "highest achieved rate with p99 within {} ms: {rate:.0}/s",
            limit.as_millis()
        ),
        None => println!("no step kept p99 within {} ms", limit.as_millis()),
    }
    Ok(if reports.iter().all(|r| r.p99 <= limit) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
