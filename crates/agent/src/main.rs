//! `ironroot-agent`: the trust agent alone, the binary a node runs (the DaemonSet, the
//! demo). It links only the agent library, not the service, the scanner or the CLI, so
//! the node pays for what it runs: `ironroot agent` takes the same arguments.

use clap::Parser;
use std::process::ExitCode;

/// The ironroot trust agent: enroll this node's TPM with the attestation service, then
/// answer its attestation challenges, and serve the node's ocicrypt key provider.
#[derive(Parser)]
#[command(name = "ironroot-agent", version)]
struct Cli {
    #[command(flatten)]
    args: ironroot_agent::command::Args,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IRONROOT_LOG")
                .unwrap_or_else(|_| "info,tss_esapi=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Two workers whatever the node's size: the agent waits on the service and the TPM,
    // and every worker costs memory.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ironroot_agent::command::run(cli.args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
