//! `ironroot`: one binary, thin shells over the service, agent and admin libraries.

use clap::{Parser, Subcommand};
use ironroot_cli::cmd;
use std::process::ExitCode;

/// ironroot: a hardware chain of trust from each node's TPM to the containers it runs.
///
/// Start here: `ironroot demo` runs a whole local platform (an attestation service and
/// three nodes with software TPMs), shows them attested, tampers with one and shows why
/// it lost trust.
#[derive(Parser)]
#[command(name = "ironroot", version, propagate_version = true)]
struct Cli {
    /// Output format for commands that print results.
    #[arg(long, global = true, value_enum, default_value_t = cmd::Output::Table)]
    output: cmd::Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the attestation service (enrollment, quote verification, flavors, signed reports).
    Server(cmd::server::Args),
    /// Run the trust agent on a node: enroll its TPM, then answer attestation challenges.
    Agent(cmd::agent::Args),
    /// Carry node trust into Kubernetes: trust and asset-tag labels, taints, drains behind a
    /// brake, and the admission webhook that keeps region-bound workloads in their region.
    Controller(cmd::controller::Args),
    /// Hosts known to the service and their trust.
    #[command(subcommand)]
    Host(cmd::admin::HostCmd),
    /// Known-good values (flavors): take them from a golden host, import, list, delete.
    #[command(subcommand)]
    Flavor(cmd::admin::FlavorCmd),
    /// Flavor groups: their attestation schedules, and which hosts they judge.
    #[command(subcommand)]
    Group(cmd::group::GroupCmd),
    /// Trust reports: history per host, one report, offline verification of a signed report.
    #[command(subcommand)]
    Report(cmd::admin::ReportCmd),
    /// Keys in the broker: create one with its transfer policy, list, show, and the log of
    /// every release and refusal.
    ///
    /// A key is released only to a node that a fresh attestation finds trusted and that
    /// the service has certified with every asset tag the key's policy lists (`ironroot
    /// host tag`), wrapped to a key inside that node's TPM. Images are encrypted for a key
    /// with `skopeo copy --encryption-key provider:ironroot:NAME SRC DST` or `ironroot
    /// image encrypt SRC DST --key provider:ironroot:NAME`; the broker seals each layer
    /// key and the key itself never leaves it on that path.
    #[command(subcommand)]
    Key(cmd::key::KeyCmd),
    /// Alerts (every loss of trust and every violation): list, acknowledge, resolve.
    #[command(subcommand)]
    Alert(cmd::alert::AlertCmd),
    /// Where alerts go: signed webhooks, syslog over TLS (RFC 5424 or CEF).
    #[command(subcommand)]
    Sink(cmd::sink::SinkCmd),
    /// Kubernetes clusters governed by this hub: register (a key made here, certified by
    /// the hub), list with their compliance, remove.
    #[command(subcommand)]
    Cluster(cmd::hub::ClusterCmd),
    /// The policy set every cluster enforces: check a file, publish a new version (who and
    /// why are recorded), show a version, and the history of changes.
    #[command(subcommand)]
    Policy(cmd::hub::PolicyCmd),
    /// Compliance of every policy across every cluster, and its history as JSON or CSV.
    #[command(subcommand)]
    Compliance(cmd::hub::ComplianceCmd),
    /// The audit trail: export entries with their proofs as a bundle, verify one offline.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCmd),
    /// Development nodes: create a node directory and boot a software TPM from it.
    #[command(subcommand)]
    Node(cmd::node::NodeCmd),
    /// Encrypted container images in OCI layouts: encrypt, decrypt, inspect, and the
    /// pipeline step (check, push) that lets only encrypted images out.
    #[command(subcommand)]
    Image(cmd::image::ImageCmd),
    /// Scan an image for vulnerable packages, weak configuration, secrets and malware.
    Scan(cmd::scan::ScanArgs),
    /// The offline vulnerability database the scanner matches against.
    #[command(subcommand)]
    Db(cmd::scan::DbCmd),
    /// Match every stored image inventory against the current database again.
    Rescan(cmd::scan::RescanArgs),
    // `sign` and `verify` take their help, examples included, from their Args structs.
    Sign(cmd::sign::SignCmd),
    Verify(cmd::sign::VerifyArgs),
    /// Run the local platform end to end: service, three attested nodes, a tampered node.
    Demo(cmd::demo::Args),
    // `login` and `whoami` take their help from their Args structs.
    Login(cmd::login::Args),
    Whoami(cmd::identity::WhoamiArgs),
    /// Organisations: hosts, flavors, groups, keys, images, clusters, policies and alerts
    /// each belong to one, and no credential of another sees them.
    #[command(subcommand)]
    Org(cmd::identity::OrgCmd),
    /// API tokens for automation: a role in an organisation, an expiry, revocable.
    #[command(subcommand)]
    Token(cmd::identity::TokenCmd),
    /// People who sign in with OpenID Connect (`ironroot login`), bound to a role by
    /// their verified e-mail address.
    #[command(subcommand)]
    Person(cmd::identity::PersonCmd),
    /// Hand a host, key or cluster to an organisation.
    #[command(subcommand)]
    Owner(cmd::identity::OwnerCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own narrative; services log what they do.
    let default_filter = match cli.command {
        Command::Demo(_)
        | Command::Host(_)
        | Command::Flavor(_)
        | Command::Group(_)
        | Command::Report(_)
        | Command::Key(_)
        | Command::Alert(_)
        | Command::Sink(_)
        | Command::Cluster(_)
        | Command::Policy(_)
        | Command::Compliance(_)
        | Command::Audit(_)
        | Command::Image(_)
        | Command::Scan(_)
        | Command::Db(_)
        | Command::Rescan(_)
        | Command::Sign(_)
        | Command::Verify(_)
        | Command::Login(_)
        | Command::Whoami(_)
        | Command::Org(_)
        | Command::Token(_)
        | Command::Person(_)
        | Command::Owner(_) => "warn,tss_esapi=error",
        _ => "info,tss_esapi=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IRONROOT_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cmd::EXIT_ERROR);
        }
    };
    let out = cli.output;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Server(a) => cmd::server::run(a).await,
            Command::Agent(a) => cmd::agent::run(a).await,
            Command::Controller(a) => cmd::controller::run(a).await,
            Command::Host(c) => cmd::admin::host(c, out).await,
            Command::Flavor(c) => cmd::admin::flavor(c, out).await,
            Command::Group(c) => cmd::group::run(c, out).await,
            Command::Report(c) => cmd::admin::report(c, out).await,
            Command::Key(c) => cmd::key::run(c, out).await,
            Command::Alert(c) => cmd::alert::run(c, out).await,
            Command::Sink(c) => cmd::sink::run(c, out).await,
            Command::Cluster(c) => cmd::hub::cluster(c, out).await,
            Command::Policy(c) => cmd::hub::policy(c, out).await,
            Command::Compliance(c) => cmd::hub::compliance(c, out).await,
            Command::Audit(c) => cmd::audit::run(c, out).await,
            Command::Node(c) => cmd::node::run(c, out).await,
            Command::Image(c) => cmd::image::run(c, out).await,
            Command::Scan(a) => cmd::scan::scan_cmd(a, out == cmd::Output::Json).await,
            Command::Db(c) => cmd::scan::db_cmd(c, out == cmd::Output::Json).await,
            Command::Rescan(a) => cmd::scan::rescan_cmd(a, out == cmd::Output::Json).await,
            Command::Sign(c) => cmd::sign::sign(c, out).await,
            Command::Verify(a) => cmd::sign::verify(a, out).await,
            Command::Demo(a) => cmd::demo::run(a).await,
            Command::Login(a) => cmd::login::run(a).await,
            Command::Whoami(a) => cmd::identity::whoami(a, out).await,
            Command::Org(c) => cmd::identity::org(c, out).await,
            Command::Token(c) => cmd::identity::token(c, out).await,
            Command::Person(c) => cmd::identity::person(c, out).await,
            Command::Owner(c) => cmd::identity::owner(c, out).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}
