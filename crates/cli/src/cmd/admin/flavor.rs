//! `ironroot flavor`: known-good values, taken from a golden host, imported, listed, deleted.

use super::{print_json, AdminClient, Conn};
use crate::cmd::{Output, Table};
use anyhow::Context;
use ironroot_api::{FlavorList, FlavorsFromHostRequest};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum FlavorCmd {
    /// Take known-good values from an attested golden host (PLATFORM, OS, SOFTWARE by default).
    FromHost {
        host: String,
        #[arg(long)]
        label: String,
        /// Flavor parts: PLATFORM, OS, HOST_UNIQUE, SOFTWARE (repeatable).
        #[arg(long = "part")]
        parts: Vec<String>,
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// List flavors (optionally of one group).
    List {
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Import flavors from a JSON file ({"flavors": [...]}, as `flavor list --output json` writes).
    Import {
        file: PathBuf,
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Delete a flavor: hosts that matched only it become untrusted at their next attestation.
    Delete {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn flavor(cmd: FlavorCmd, out: Output) -> anyhow::Result<ExitCode> {
    let list = match cmd {
        FlavorCmd::FromHost {
            host,
            label,
            parts,
            group,
            conn,
        } => {
            let req = FlavorsFromHostRequest {
                host_id: host,
                label,
                parts,
                flavor_group: group,
            };
            AdminClient::new(&conn)?.flavors_from_host(&req).await?
        }
        FlavorCmd::List { group, conn } => {
            AdminClient::new(&conn)?.flavors(group.as_deref()).await?
        }
        FlavorCmd::Import { file, group, conn } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let list: FlavorList = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a flavor list", file.display()))?;
            AdminClient::new(&conn)?
                .import_flavors(group.as_deref(), &list)
                .await?
        }
        FlavorCmd::Delete { id, conn } => {
            let v: serde_json::Value = AdminClient::new(&conn)?.delete_flavor(&id).await?;
            print_json(&v)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    match out {
        Output::Json => print_json(&list)?,
        Output::Table => {
            let mut t = Table::new(&["FLAVOR ID", "PART", "LABEL", "RULES"]);
            for f in &list.flavors {
                t.row(vec![
                    f["id"].as_str().unwrap_or("").to_owned(),
                    f["meta"]["part"].as_str().unwrap_or("").to_owned(),
                    f["meta"]["label"].as_str().unwrap_or("").to_owned(),
                    f["rules"]
                        .as_array()
                        .map(|r| r.len().to_string())
                        .unwrap_or_default(),
                ]);
            }
            println!("{}", t.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}
