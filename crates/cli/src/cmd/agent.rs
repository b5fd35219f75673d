//! `ironroot agent`: the trust agent's own command line (`ironroot_agent::command`), for
//! one binary on a workstation. Nodes run the slim `ironroot-agent` binary instead.

use anyhow::Context;
use std::process::ExitCode;

pub use ironroot_agent::command::Args;

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    ironroot_agent::command::run(a)
        .await
        .context("agent stopped")?;
    Ok(ExitCode::SUCCESS)
}
