//! `ironroot-webhook-bench`: the admission webhook at a fixed open-loop rate over HTTPS,
//! against a baseline measured in the same run on the same server (issue 13's figure:
//! p99 under 5 ms server side at 1,000 AdmissionReviews a second).
//!
//! One process, two runtimes: the server (the webhook's own `serve_router`: its listener,
//! rustls with `open_server_config`, hyper's HTTP/1.1 and HTTP/2 stack, its axum routes)
//! and a client that plays the API server (HTTP/1.1 keep-alive connections opened as
//! requests need them and reused, as kube-apiserver calls a webhook behind a Service). The
//! baseline route sits beside the webhook's on the same router: it reads and parses the
//! AdmissionReview the same way and answers allow-all with no decision. A timing layer
//! wraps both alike, from the request's headers parsed to the response body serialized.
//!
//! Node views, the pod a binding names and the image resolution answer from memory: in
//! production the resolver's registry and broker lookups are cached (by digest, and a
//! key's policy for 10 s), so a steady stream of reviews hits those caches. Benchmark
//! only; it listens on loopback and stops by itself.
//!
//! With `--policies FILE` (issue 14's figure: p99 under 10 ms with the whole R10 set) the
//! webhook enforces that set, a third of the reviews are pod CREATEs the set judges in
//! full, and the baseline is the same webhook without policies (under `/plain`), so the
//! ratio is what enforcing the set costs.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use clap::Parser;
use ironroot_controller::webhook;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
use kube::core::DynamicObject;
use serde_json::Value;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BASELINE: &str = "/baseline";
/// The webhook without policies, beside the one enforcing `--policies`.
const PLAIN: &str = "/plain";
const GOAL: Duration = Duration::from_millis(5);
const GOVERNED_GOAL: Duration = Duration::from_millis(10);

/// The admission webhook's server-side latency at a fixed rate over HTTPS, against an
/// allow-all baseline on the same server. Exit codes: 0 the run finished (whatever the
/// figures); 1 it could not run.
#[derive(Parser)]
#[command(name = "ironroot-webhook-bench")]
struct Args {
    /// AdmissionReviews per second, open loop.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// Rounds; each runs one baseline phase and one webhook phase, in alternating order.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Unmeasured seconds at the rate on each route before the first round.
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// Enforce this policy set (e.g. crates/policy/policies/r10.yaml); the baseline is
    /// then the same webhook without it.
    #[arg(long)]
    policies: Option<std::path::PathBuf>,
}

/// Server-side durations, by route, as the timing layer saw them.
#[derive(Default)]
struct Recorder {
    webhook: Mutex<Vec<Duration>>,
    baseline: Mutex<Vec<Duration>>,
}

impl Recorder {
    fn take(&self, baseline: bool) -> Vec<Duration> {
        let slot = if baseline {
            &self.baseline
        } else {
            &self.webhook
        };
        slot.lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// The same layer around every route: headers parsed -> response body serialized (axum's
/// `Json` serializes when the response is built).
async fn timed(State(rec): State<Arc<Recorder>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = req.uri().path();
    let baseline = path == BASELINE || path.starts_with(PLAIN);
    let res = next.run(req).await;
    let took = start.elapsed();
    let slot = if baseline {
        &rec.baseline
    } else {
        &rec.webhook
    };
    if let Ok(mut v) = slot.lock() {
        v.push(took);
    }
    res
}

/// Allow-all with no decision: what any webhook must do to answer at all (read the body
/// under the same limit, parse the AdmissionReview, echo its uid).
async fn allow_all(body: axum::body::Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, webhook::MAX_REVIEW).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let Ok(req): Result<AdmissionRequest<DynamicObject>, _> = review.try_into() else {
        return axum::http::StatusCode::BAD_REQUEST.into_response();
    };
    Json(AdmissionResponse::from(&req).into_review()).into_response()
}

mod governed;
mod reviews;

/// One request's figures: client-side time from its send, how late the send was against
/// its schedule, and whether the answer was the expected one.
struct Sent {
    client: Duration,
    lag: Duration,
    ok: bool,
}

/// Sends `bodies` at `rate` per second on an open-loop schedule (a slow answer never
/// delays the next send); to the baseline when `baseline`: the webhook without policies
/// when `governed`, else the allow-all route.
async fn phase(
    http: &reqwest::Client,
    base: &str,
    bodies: &[(&'static str, axum::body::Bytes, bool)],
    rate: f64,
    baseline: bool,
    governed: bool,
) -> Vec<Sent> {
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut set = tokio::task::JoinSet::new();
    for (i, (path, body, allowed)) in bodies.iter().enumerate() {
        let at = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(at).await;
        let allow_all = baseline && !governed;
        let url = match (baseline, governed) {
            (true, false) => format!("{base}{BASELINE}"),
            (true, true) => format!("{base}{PLAIN}{path}"),
            (false, _) => format!("{base}{path}"),
        };
        let (http, body) = (http.clone(), body.clone());
        // The webhook's answers: a pod CREATE allowed with a patch, a binding allowed
        // (or refused) without one; the allow-all baseline allows everything, never
        // patching. The compliant pod is admitted with or without policies.
        let expect = allow_all || *allowed;
        let patched = !allow_all && *path == "/mutate/pods";
        set.spawn(async move {
            let sent = tokio::time::Instant::now();
            let res = http
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let answer = match res {
                Ok(r) if r.status() == 200 => r.bytes().await.ok(),
                _ => None,
            };
            let client = sent.elapsed();
            let ok = answer
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| {
                    v["response"]["allowed"].as_bool() == Some(expect)
                        && v["response"]["patch"].is_string() == patched
                });
            Sent {
                client,
                lag: sent.saturating_duration_since(at),
                ok,
            }
        });
    }
    let mut out = Vec::with_capacity(bodies.len());
    while let Some(r) = set.join_next().await {
        if let Ok(s) = r {
            out.push(s);
        }
    }
    out
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// p50, p99, p99.9, max of `v`, sorted in place.
fn cells(v: &mut [Duration]) -> String {
    v.sort_unstable();
    let max = v.last().copied().unwrap_or_default();
    format!(
        "{} | {} | {} | {}",
        ms(quantile(v, 0.5)),
        ms(quantile(v, 0.99)),
        ms(quantile(v, 0.999)),
        ms(max)
    )
}

/// The server on its own runtime (as a separate process would have its own threads).
fn start_server(
    rec: Arc<Recorder>,
    policies: Option<&std::path::Path>,
) -> anyhow::Result<(String, reqwest::Client)> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let cert_pem = cert.cert.pem();
    let identity = ironroot_tls::Identity::from_pem(
        cert_pem.as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )?;
    let tls = ironroot_tls::open_server_config(identity)?;
    let mut app = match policies {
        Some(p) => webhook::router(Arc::new(governed::enforcing(reviews::hook()?, p)?))
            .nest(PLAIN, webhook::router(Arc::new(reviews::hook()?))),
        None => webhook::router(Arc::new(reviews::hook()?)),
    };
    app = app
        .route(BASELINE, axum::routing::post(allow_all))
        .layer(axum::middleware::from_fn_with_state(rec, timed));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let base = format!("https://localhost:{}", std_listener.local_addr()?.port());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("webhook")
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        rt.block_on(async move {
            match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => webhook::serve_router(l, tls, app).await,
                Err(e) => eprintln!("ironroot-webhook-bench: the listener: {e}"),
            }
        })
    });
    // The API server's side: the webhook's CA in the caBundle, no ALPN (HTTP/1.1).
    let client_tls = ironroot_tls::service_client_config(cert_pem.as_bytes(), None)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls)
        .http1_only()
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok((base, http))
}

async fn bench(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rate > 0.0 && args.secs > 0.0,
        "--rate and --secs must be positive"
    );
    let rec = Arc::new(Recorder::default());
    let governed = args.policies.is_some();
    let (base, http) = start_server(rec.clone(), args.policies.as_deref())?;
    let count = |secs: f64| (args.rate * secs).round() as usize;
    let bodies = |n: usize| -> anyhow::Result<Vec<_>> {
        (0..n)
            .map(|i| {
                let (path, v, allowed) = reviews::review(i, governed);
                Ok((
                    path,
                    axum::body::Bytes::from(serde_json::to_vec(&v)?),
                    allowed,
                ))
            })
            .collect()
    };
    let warm = bodies(count(args.warmup_secs))?;
    for baseline in [true, false] {
        phase(&http, &base, &warm, args.rate, baseline, governed).await;
        rec.take(baseline);
    }
    let measured = bodies(count(args.secs))?;
    println!(
        "{} reviews per phase at {}/s; body {}-{} bytes; server-side ms (timing layer), client-side ms (from send)",
        measured.len(),
        args.rate,
        measured.iter().map(|b| b.1.len()).min().unwrap_or(0),
        measured.iter().map(|b| b.1.len()).max().unwrap_or(0)
    );
    println!("| round | route | server p50 | p99 | p99.9 | max | client p50 | p99 | p99.9 | max | send lag p99 | wrong |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut all: HashMap<bool, (Vec<Duration>, Vec<Duration>)> = HashMap::new();
    let mut ratios = Vec::new();
    for round in 1..=args.rounds {
        let order = if !round.is_multiple_of(2) {
            [true, false]
        } else {
            [false, true]
        };
        let mut p99 = HashMap::new();
        for baseline in order {
            let sent = phase(&http, &base, &measured, args.rate, baseline, governed).await;
            let mut server = rec.take(baseline);
            let mut client: Vec<Duration> = sent.iter().map(|s| s.client).collect();
            let mut lag: Vec<Duration> = sent.iter().map(|s| s.lag).collect();
            lag.sort_unstable();
            let wrong = sent.iter().filter(|s| !s.ok).count() + measured.len() - sent.len();
            let route = route_name(baseline, governed);
            let sc = cells(&mut server);
            let cc = cells(&mut client);
            println!(
                "| {round} | {route} | {sc} | {cc} | {} | {wrong} |",
                ms(quantile(&lag, 0.99))
            );
            p99.insert(baseline, quantile(&server, 0.99));
            let e = all.entry(baseline).or_default();
            e.0.extend(server);
            e.1.extend(client);
        }
        if let (Some(w), Some(b)) = (p99.get(&false), p99.get(&true)) {
            ratios.push(w.as_secs_f64() / b.as_secs_f64().max(1e-9));
        }
    }
    println!("\nAll rounds:\n| route | server p50 | p99 | p99.9 | max | client p50 | p99 | p99.9 | max |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut p99 = HashMap::new();
    for baseline in [true, false] {
        let Some((server, client)) = all.get_mut(&baseline) else {
            continue;
        };
        let route = route_name(baseline, governed);
        println!("| {route} | {} | {} |", cells(server), cells(client));
        p99.insert(baseline, quantile(server, 0.99));
    }
    let (w, b) = (
        p99.get(&false).copied().unwrap_or_default(),
        p99.get(&true).copied().unwrap_or_default(),
    );
    let goal = if governed { GOVERNED_GOAL } else { GOAL };
    println!(
        "\nserver-side p99: {} {} ms, {} {} ms, ratio {:.2} (per round: {}); goal p99 < {} ms: {}",
        route_name(false, governed),
        ms(w),
        route_name(true, governed),
        ms(b),
        w.as_secs_f64() / b.as_secs_f64().max(1e-9),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        goal.as_millis(),
        if w < goal { "met" } else { "NOT met" }
    );
    Ok(())
}

fn route_name(baseline: bool, governed: bool) -> &'static str {
    match (baseline, governed) {
        (false, false) => "webhook",
        (true, false) => "baseline",
        (false, true) => "policies",
        (true, true) => "no policies",
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("apiserver")
        .enable_all()
        .build();
    let result = rt
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(bench(&args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ironroot-webhook-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
