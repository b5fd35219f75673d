//! `ironroot scan`, `ironroot db`, `ironroot rescan`: the image scanner's shell (issue 5).
//! The work is in `ironroot-scanner` (the pass over the layers), `ironroot-vulndb`
//! (matching), `ironroot-imagecheck` and `ironroot-contentscan` (checks); this module
//! opens sources, loads the database, applies the user's policy and prints.

mod checks;
mod content;
mod db;
mod policy;
mod render;
mod rpmdb;
mod store;
mod table;

pub use db::db_cmd;
pub(crate) use db::parse_duration;

use crate::cmd::image::progress::Progress;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use ironroot_scanner::{Scan, ScanReport, Severity};
use std::path::PathBuf;
use std::process::ExitCode;

use ironroot_oci::source::{self, Source};

/// Exit code when findings reach `--fail-on` (the scan itself worked).
pub const EXIT_FINDINGS: u8 = crate::cmd::EXIT_UNTRUSTED;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Table,
    /// The whole report (schema `ironroot.scan/v1`).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// A CycloneDX 1.5 SBOM with the vulnerabilities.
    Cyclonedx,
    /// An SPDX 2.3 SBOM (JSON).
    Spdx,
    /// An in-toto statement with cosign's vulnerability predicate (for `cosign attest`).
    CosignVuln,
}

/// Scan an image for vulnerable packages, weak configuration, secrets and malware.
///
/// IMAGE is an OCI layout (`oci:DIR[:TAG]` or a directory with an `oci-layout` file), a
/// `docker save` archive (`docker-archive:FILE` or a file), or a root filesystem
/// (`dir:PATH` or any other directory). Every layer is read once, as a stream, and checked
/// against its digest; nothing is unpacked.
///
/// Exit codes: 0 the scan ran and nothing reached --fail-on; 1 the scan could not be done
/// (unreadable or altered image, missing or stale database, bad arguments); 2 the scan ran
/// and findings reached --fail-on.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The image (see above).
    pub image: String,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output_file: Option<PathBuf>,
    /// Severities to report, comma-separated (unknown = nothing rated it).
    #[arg(long, value_delimiter = ',', value_parser = policy::parse_severity, default_value = "unknown,info,low,medium,high,critical")]
    pub severity: Vec<Severity>,
    /// Exit with 2 when a reported finding is at or above this severity (`unknown`: any finding).
    #[arg(long, value_parser = policy::parse_severity)]
    pub fail_on: Option<Severity>,
    /// Findings to ignore, with reasons and expiry (TOML; see docs/scanner.md).
    #[arg(long)]
    pub ignore_file: Option<PathBuf>,
    /// The vulnerability database directory [default: $IRONROOT_DB or ~/.cache/ironroot/db].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Refuse a database whose newest advisory is older than this (7d, 36h, ...).
    #[arg(long, default_value = "7d", value_parser = db::parse_duration)]
    pub max_db_age: u64,
    /// Scan without a vulnerability database (inventory and checks only).
    #[arg(long)]
    pub skip_vulnerabilities: bool,
    /// Do not keep the image's inventory for `ironroot rescan`.
    #[arg(long)]
    pub no_store: bool,
    /// Where inventories are kept [default: ~/.cache/ironroot/inventories].
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// More secret rules (TOML: `[[rule]]` and `[[allow]]` tables; docs/scanner.md).
    #[arg(long)]
    pub secret_rules: Vec<PathBuf>,
    /// More YARA rules (a .yar file; no modules, no includes).
    #[arg(long)]
    pub yara_rules: Vec<PathBuf>,
    /// Skip the secret and malware scan of layer files.
    #[arg(long)]
    pub skip_content: bool,
    /// Talk plain HTTP to the image's registry (a loopback test registry; never for a
    /// registry reached over a network).
    #[arg(long)]
    pub plain_http: bool,
    /// Also send the report to the service (`ironroot server --vulndb DIR`), which keeps
    /// the inventory, matches it with its own database and rescans it on its own when
    /// that database changes. Reaches the service as an administrator (--server, --ca,
    /// --token-file or their IRONROOT_ variables).
    #[arg(long)]
    pub submit: bool,
    #[command(flatten)]
    pub service: ServiceConn,
}

/// How `--submit` and `rescan --service` reach the service.
pub use crate::cmd::admin::MaybeConn as ServiceConn;

fn service_client(
    conn: &ServiceConn,
    what: &str,
) -> anyhow::Result<crate::cmd::admin::AdminClient> {
    crate::cmd::admin::AdminClient::new(&conn.require(what)?)
}

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Load a vulnerability database from OSV records (a file, a directory of them, an
    /// array) and/or the Debian security tracker's JSON export, from files or URLs. The
    /// whole input is validated first: on any error the old database stays as it was.
    Update {
        /// A file, directory or http(s) URL; repeat for several feeds.
        #[arg(long, required = true)]
        from: Vec<String>,
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// What the database holds and how old it is.
    Status {
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

/// Match every stored inventory against the current database again, without reading
/// any image, and report what became vulnerable (or was fixed) since the last match.
///
/// Exit codes: 0 nothing new at or above --fail-on; 1 error; 2 new findings reached it.
#[derive(Debug, Args)]
pub struct RescanArgs {
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[arg(long, default_value = "7d", value_parser = db::parse_duration)]
    pub max_db_age: u64,
    #[arg(long)]
    pub store: Option<PathBuf>,
    #[arg(long, value_parser = policy::parse_severity)]
    pub fail_on: Option<Severity>,
    /// Print counts only, not each image's findings (for a whole fleet).
    #[arg(long)]
    pub summary: bool,
    /// Show the rescans the service ran on its own (for inventories sent with
    /// `scan --submit`) instead of rescanning the local store; --fail-on then applies to
    /// the newest of them.
    #[arg(long)]
    pub service: bool,
    #[command(flatten)]
    pub conn: ServiceConn,
}

pub async fn scan_cmd(args: ScanArgs, json: bool) -> anyhow::Result<ExitCode> {
    let format = args
        .format
        .unwrap_or(if json { Format::Json } else { Format::Table });
    let rules = match &args.ignore_file {
        Some(p) => policy::load_rules(p)?,
        None => policy::Rules::default(),
    };
    let database = if args.skip_vulnerabilities {
        None
    } else {
        let dir = args.db.clone().unwrap_or_else(db::default_dir);
        let meta = db::metadata(&dir)?;
        db::check_age(&meta, args.max_db_age, ironroot_timestamp::now_unix())?;
        Some((meta, dir))
    };
    let generation = database.as_ref().map_or(0, |(m, _)| m.updated_at);
    let source = Source::parse(&args.image)?;
    let content = if args.skip_content {
        None
    } else {
        Some(content::compile(&args.secret_rules, &args.yara_rules)?)
    };
    let image = args.image.clone();
    let runtime = tokio::runtime::Handle::current();
    let plain_http = args.plain_http;
    let mut report = tokio::task::spawn_blocking(move || {
        run_scan(&image, &source, database, runtime, plain_http, content)
    })
    .await
    .context("the scan stopped")??;
    if !args.no_store {
        let dir = args.store.clone().unwrap_or_else(store::default_dir);
        store::save(&dir, &report, generation).await?;
    }
    // The service gets the whole inventory, before this user's ignore rules and filters.
    let to_submit = args.submit.then(|| report.clone());
    for w in rules.apply(&mut report, ironroot_timestamp::now_unix()) {
        eprintln!("warning: {w}");
    }
    policy::filter_severity(&mut report, &args.severity);
    let text = render::render(&report, format)?;
    match &args.output_file {
        Some(p) => std::fs::write(p, text + "\n").with_context(|| format!("{}", p.display()))?,
        None => {
            use std::io::Write;
            // A reader that stopped early (`| head`) is not an error of the scan.
            match writeln!(std::io::stdout().lock(), "{text}") {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r?,
            }
        }
    }
    // After the report is out: a service that cannot be reached loses the user nothing.
    if let Some(full) = to_submit {
        let kept: ironroot_inventory::Submitted = service_client(&args.service, "--submit")?
            .post("/v1/images/inventories", &full)
            .await
            .context("submitting the inventory to the service (the scan itself is complete and its report was written)")?;
        eprintln!(
            "submitted to {}: kept as {} ({} packages; {} vulnerabilities by the service's database, generation {})",
            args.service.server, kept.image, kept.packages, kept.vulnerabilities, kept.generation
        );
    }
    Ok(match args.fail_on {
        Some(t) if policy::fails(&report, t) => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::SUCCESS,
    })
}

fn run_scan(
    reference: &str,
    source: &Source,
    database: Option<(db::Metadata, PathBuf)>,
    runtime: tokio::runtime::Handle,
    plain_http: bool,
    content: Option<ironroot_contentscan::Scanner>,
) -> anyhow::Result<ScanReport> {
    let started_at = ironroot_timestamp::now_unix();
    let progress = Progress::on_terminal();
    let workdir = tempdir()?;
    let rpm = rpmdb::SqlxRpm {
        workdir: workdir.path().to_path_buf(),
        runtime: runtime.clone(),
        max_packages: ironroot_pkgdb::Limits::default().max_packages,
    };
    let mut inspector = checks::Checks {
        content: content.map(content::ContentChecks::start).transpose()?,
    };
    let mut scan = Scan::new(Default::default(), &mut inspector, &rpm);
    let fed = source::feed(
        reference, source, &mut scan, &progress, plain_http, &runtime,
    );
    let collected = scan.finish();
    let content_findings = match inspector.content.take() {
        Some(c) => c.finish()?,
        None => Vec::new(),
    };
    drop(workdir);
    let fed = fed?;
    let config = ironroot_scanner::checks::configuration(&collected, fed.config.as_deref());
    let mut report = ironroot_scanner::assemble(ironroot_scanner::ScanParts {
        scanner_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        image: fed.info,
        collected,
        config,
        content: content_findings,
    });
    if let Some((meta, dir)) = database {
        progress.note("matching against the vulnerability database");
        let db = db::load(&dir)?;
        report.match_against(&db, meta.report_info());
    }
    report.finish(ironroot_timestamp::now_unix());
    Ok(report)
}

/// A private directory for the scan's own files (an rpm database being read).
/// tempfile creates it with mode 0700 and removes it when dropped.
fn tempdir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("ironroot-scan-")
        .tempdir()
        .with_context(|| {
            format!(
                "cannot create a private directory in {}",
                std::env::temp_dir().display()
            )
        })
}

pub async fn rescan_cmd(args: RescanArgs, json: bool) -> anyhow::Result<ExitCode> {
    if args.service {
        return service_rescans(&args, json).await;
    }
    let dir = args.db.clone().unwrap_or_else(db::default_dir);
    let meta = db::metadata(&dir)?;
    db::check_age(&meta, args.max_db_age, ironroot_timestamp::now_unix())?;
    let store_dir = args.store.clone().unwrap_or_else(store::default_dir);
    let t = std::time::Instant::now();
    let database = tokio::task::spawn_blocking(move || db::load(&dir))
        .await
        .context("loading the database stopped")??;
    let database_ms = t.elapsed().as_millis() as u64;
    let mut outcome = store::rescan(&store_dir, &database, meta.updated_at, !args.summary).await?;
    outcome.timings.database_ms = database_ms;
    if args.summary {
        let new: usize = outcome.images.iter().map(|i| i.new_count).sum();
        let gone: usize = outcome.images.iter().map(|i| i.gone_count).sum();
        let summary = serde_json::json!({
            "inventories": outcome.inventories,
            "packages": outcome.packages,
            "images_changed": outcome.images.len(),
            "new": new,
            "gone": gone,
            "timings": outcome.timings,
        });
        println!(
            "{}",
            if json {
                summary.to_string()
            } else {
                format!("{} inventories, {} distinct packages: {} images changed, {new} new findings, {gone} gone", outcome.inventories, outcome.packages, outcome.images.len())
            }
        );
    } else if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", table::rescan(&outcome));
    }
    Ok(rescan_exit(&outcome, args.fail_on))
}

fn rescan_exit(outcome: &store::Rescan, fail_on: Option<Severity>) -> ExitCode {
    let failing = fail_on.is_some_and(|t| {
        outcome
            .images
            .iter()
            .flat_map(|i| &i.new)
            .any(|v| v.severity >= t)
    });
    if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

/// `rescan --service`: the service's database and its latest rescans.
async fn service_rescans(args: &RescanArgs, json: bool) -> anyhow::Result<ExitCode> {
    let log: ironroot_inventory::RescanLog = service_client(&args.conn, "--service")?
        .get("/v1/images/rescans")
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&log)?);
    } else {
        print!("{}", table::service_rescans(&log, args.summary));
    }
    Ok(match log.rescans.first() {
        Some(r) => rescan_exit(&r.rescan, args.fail_on),
        None => ExitCode::SUCCESS,
    })
}
