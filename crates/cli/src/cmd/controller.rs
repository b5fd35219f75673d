//! `ironroot controller`: the Kubernetes controller's own command line
//! (`ironroot_controller::command`).

use anyhow::Context;
use std::process::ExitCode;

pub use ironroot_controller::command::Args;

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    ironroot_controller::command::run(a)
        .await
        .context("controller stopped")?;
    Ok(ExitCode::SUCCESS)
}
