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
    /// The service, as host:port (HTTPS); several (repeated or comma-separated) for
    /// replicas sharing one database: each node takes its challenge from one replica and
    /// sends its evidence to the next.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:8443")]
    server: Vec<String>,
    /// The service CA (ca.pem in the service's data directory).
    #[arg(long)]
    ca: PathBuf,
    /// The administrator token file (admin.token in the data directory).
    #[arg(long)]
    admin_token: PathBuf,
    /// The service's process ids (one per replica, in --server order), for CPU and
    /// memory (summed).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
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
    /// Attempts per attestation: after a connection failure, a timeout or a 5xx answer
    /// the whole attestation is retried at once on another replica.
    #[arg(long, default_value_t = 3)]
    max_attempts: usize,
    /// Seconds a replica whose connection failed is avoided by every node.
    #[arg(long, default_value_t = 5.0)]
    down_hold_secs: f64,
    /// Kill test: SIGKILL the replica with this index (in --server and --server-pid
    /// order) --kill-after-secs into the load (warm-up included).
    #[arg(long, requires = "kill_after_secs")]
    kill_replica: Option<usize>,
    #[arg(long)]
    kill_after_secs: Option<f64>,
    /// Writes every answered verdict here, one per line: report_id, host_id, trusted
    /// (1/0), evidence replica, milliseconds from the load start to the answer.
    #[arg(long)]
    report_ids: Option<PathBuf>,
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

fn target(server: &str, ca_pem: &std::sync::Arc<[u8]>) -> anyhow::Result<Target> {
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
    let addr = server
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{server} resolves to no address"))?;
    Ok(Target {
        addr,
        server_name: ServerName::try_from(host.to_owned())?,
        authority: server.to_owned(),
        ca_pem: ca_pem.clone(),
    })
}

async fn run(a: Args) -> anyhow::Result<ExitCode> {
    let ca_pem: std::sync::Arc<[u8]> = std::fs::read(&a.ca)?.into();
    let targets = a
        .server
        .iter()
        .map(|s| target(s, &ca_pem))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let kill = match (a.kill_replica, a.kill_after_secs) {
        (Some(k), Some(secs)) => {
            let pid = a.server_pid.get(k).copied().ok_or_else(|| {
                anyhow::anyhow!("--kill-replica {k}: no such --server-pid (give one per --server)")
            })?;
            Some((pid, Duration::from_secs_f64(secs)))
        }
        _ => None,
    };
    let step = |rate, secs: f64, measured| Step {
        rate,
        duration: Duration::from_secs_f64(secs),
        measured,
    };
    let first = a.rates.first().copied().unwrap_or(1700.0);
    let opts = Options {
        targets,
        admin_token: std::fs::read_to_string(&a.admin_token)?.trim().to_owned(),
        server_pids: a.server_pid.clone(),
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
        max_attempts: a.max_attempts,
        down_hold: Duration::from_secs_f64(a.down_hold_secs),
        kill,
    };
    let limit = opts.p99_limit;
    println!(
        "{} nodes ({} AK), {} replica(s), {:.0} s steps (first {:.0} s of each left out), jitter ±{:.0}%, open loop: latency from the scheduled time",
        a.nodes, a.ak, a.server.len(), a.step_secs, a.settle_secs, opts.jitter * 100.0
    );
    let result = ironroot_loadgen::run(opts, |l| println!("{l}")).await?;
    let reports = &result.reports;
    println!("\nsummary (measured steps):\n{}", report::HEADER);
    for r in reports {
        println!("{}", r.row());
        if a.server.len() > 1 {
            let by: Vec<String> = r
                .answered_by
                .iter()
                .map(|(k, n)| format!("replica {k}: {n}"))
                .collect();
            println!("    verdicts by evidence replica: {}", by.join(", "));
        }
        for (kind, n) in &r.errors {
            println!("    error {kind}: {n}");
        }
        if r.retried > 0 {
            println!("    retried on another replica: {} attestations", r.retried);
            for (kind, n) in &r.retry_failures {
                println!("        failed attempt {kind}: {n}");
            }
        }
    }
    if let Some(path) = &a.report_ids {
        write_report_ids(path, &result)?;
        println!("answered verdicts written to {}", path.display());
    }
    if let Some(at) = result.killed_at {
        kill_summary(&result, at, a.kill_replica.unwrap_or(0), a.server.len());
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

fn write_report_ids(path: &std::path::Path, r: &ironroot_loadgen::RunResult) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for s in &r.samples {
        if let Some(id) = &s.report_id {
            writeln!(
                f,
                "{id}\t{}\t{}\t{}\t{}",
                r.host_ids.get(s.node).map_or("?", String::as_str),
                u8::from(s.outcome.is_ok()),
                s.replicas.1,
                s.completed.saturating_duration_since(r.start).as_millis()
            )?;
        }
    }
    f.flush()?;
    Ok(())
}

/// What the fleet saw around the kill: every attestation scheduled, how it ended, which
/// replicas answered before and after, and a per-second timeline.
fn kill_summary(r: &ironroot_loadgen::RunResult, at: std::time::Instant, killed: usize, n: usize) {
    use std::collections::BTreeMap;
    let secs = |t: std::time::Instant| {
        if t >= at {
            t.duration_since(at).as_secs_f64()
        } else {
            -at.duration_since(t).as_secs_f64()
        }
    };
    let s = &r.samples;
    let answered = s.iter().filter(|x| x.report_id.is_some()).count();
    let trusted = s.iter().filter(|x| x.outcome.is_ok()).count();
    let retried: Vec<_> = s.iter().filter(|x| !x.retried.is_empty()).collect();
    let recovered = retried.iter().filter(|x| x.report_id.is_some()).count();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for x in s.iter().filter(|x| x.report_id.is_none()) {
        if let Err(e) = &x.outcome {
            *failed.entry(e.to_string()).or_insert(0) += 1;
        }
    }
    let mut attempts: BTreeMap<String, usize> = BTreeMap::new();
    for x in s {
        for e in &x.retried {
            *attempts
                .entry(format!("replica {}: {}", e.replica, e.failure))
                .or_insert(0) += 1;
        }
    }
    println!(
        "\nkill test: replica {killed} SIGKILLed at {:.3} s into the load",
        at.saturating_duration_since(r.start).as_secs_f64()
    );
    println!("  attestations scheduled and run: {}", s.len());
    println!(
        "  answered with a verdict: {answered} ({trusted} trusted, {} untrusted)",
        answered - trusted
    );
    println!(
        "  no verdict (attempts used up, or not retryable): {}",
        s.len() - answered
    );
    for (k, v) in &failed {
        println!("      {k}: {v}");
    }
    println!(
        "  attestations with a failed attempt, retried on another replica: {} ({recovered} then answered)",
        retried.len()
    );
    for (k, v) in &attempts {
        println!("      failed attempt {k}: {v}");
    }
    let max_retry_latency = retried.iter().map(|x| x.latency).max().unwrap_or_default();
    println!(
        "  slowest retried attestation (scheduled to verdict): {:.1} ms",
        max_retry_latency.as_secs_f64() * 1e3
    );
    for (label, after) in [("before the kill", false), ("after the kill", true)] {
        let mut by = vec![0usize; n];
        for x in s
            .iter()
            .filter(|x| x.report_id.is_some() && (x.completed >= at) == after)
        {
            if let Some(c) = by.get_mut(x.replicas.1) {
                *c += 1;
            }
        }
        let challenges_killed = s
            .iter()
            .filter(|x| {
                x.report_id.is_some() && (x.completed >= at) == after && x.replicas.0 == killed
            })
            .count();
        println!(
            "  verdicts answered {label}, by evidence replica: {by:?}; challenges from replica {killed}: {challenges_killed}"
        );
    }
    let last_killed = s
        .iter()
        .filter(|x| x.report_id.is_some() && x.replicas.1 == killed)
        .map(|x| x.completed)
        .max();
    if let Some(t) = last_killed {
        println!(
            "  last verdict answered by replica {killed}: {:+.3} s from the kill",
            secs(t)
        );
    }
    println!("  timeline (by completion second, relative to the kill):");
    println!("      second  verdicts  by replica        retried  failed  p99 ms");
    let mut buckets: BTreeMap<i64, Vec<&ironroot_loadgen::runner::Sample>> = BTreeMap::new();
    for x in s {
        let b = secs(x.completed).floor() as i64;
        if (-3..=12).contains(&b) {
            buckets.entry(b).or_default().push(x);
        }
    }
    for (b, xs) in &buckets {
        let mut by = vec![0usize; n];
        for x in xs.iter().filter(|x| x.report_id.is_some()) {
            if let Some(c) = by.get_mut(x.replicas.1) {
                *c += 1;
            }
        }
        let mut lat: Vec<Duration> = xs.iter().map(|x| x.latency).collect();
        lat.sort_unstable();
        println!(
            "      {:>+6}  {:>8}  {:<16}  {:>7}  {:>6}  {:>6.1}",
            b,
            xs.iter().filter(|x| x.report_id.is_some()).count(),
            format!("{by:?}"),
            xs.iter().filter(|x| !x.retried.is_empty()).count(),
            xs.iter().filter(|x| x.report_id.is_none()).count(),
            report::percentile(&lat, 0.99).as_secs_f64() * 1e3
        );
    }
}
