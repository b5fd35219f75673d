//! `ironroot group`: flavor groups, their attestation schedules, and which hosts they judge.

use super::admin::{print_json, AdminClient, Conn};
use super::{Output, Table};
use ironroot_api::AssignGroup;
use ironroot_verifier::{FlavorGroup, Schedule};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum GroupCmd {
    /// List flavor groups with their match policies and schedules.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Create a group, or change one, copying the match policies of --like (the default
    /// group `automatic` when the group is new). A schedule makes the group's hosts attest
    /// every --interval seconds and lose trust --grace seconds after a missed attestation;
    /// without one the service's defaults apply.
    ///
    /// Example: ironroot group set payments --interval 5 --grace 5
    Set {
        name: String,
        /// Copy the match policies of this group.
        #[arg(long)]
        like: Option<String>,
        /// Seconds between attestations (1 to 86400).
        #[arg(long, requires = "grace")]
        interval: Option<u64>,
        /// Seconds a trusted verdict outlives a missed attestation (1 to 86400).
        #[arg(long, requires = "interval")]
        grace: Option<u64>,
        /// Remove the group's schedule: the service's defaults apply again.
        #[arg(long, conflicts_with_all = ["interval", "grace"])]
        default_schedule: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// Move a host (by id or hostname) into a group: its next attestation is judged by
    /// that group's flavors and schedule.
    Assign {
        host: String,
        group: String,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(cmd: GroupCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        GroupCmd::List { conn } => {
            let groups: Vec<FlavorGroup> = AdminClient::new(&conn)?.flavor_groups().await?;
            match out {
                Output::Json => print_json(&groups)?,
                Output::Table => print!("{}", groups_table(&groups)),
            }
        }
        GroupCmd::Set {
            name,
            like,
            interval,
            grace,
            default_schedule,
            conn,
        } => {
            let client = AdminClient::new(&conn)?;
            let groups: Vec<FlavorGroup> = client.flavor_groups().await?;
            let existing = groups.iter().find(|g| g.name == name);
            let base_name = like.as_deref().unwrap_or(if existing.is_some() {
                name.as_str()
            } else {
                "automatic"
            });
            let platform;
            let base = match groups.iter().find(|g| g.name == base_name) {
                Some(base) => base,
                // `automatic` is the platform's, which another organisation does not
                // see: a new group there starts from the same built-in policies.
                None if like.is_none() => {
                    platform = FlavorGroup::default_group(base_name);
                    &platform
                }
                None => anyhow::bail!("no flavor group named {base_name}"),
            };
            let schedule = match (interval, grace) {
                (Some(interval_secs), Some(grace_secs)) => Some(Schedule {
                    interval_secs,
                    grace_secs,
                }),
                _ if default_schedule => None,
                _ => existing.and_then(|g| g.schedule),
            };
            let group = FlavorGroup {
                name,
                policies: base.policies.clone(),
                schedule,
            };
            let saved: FlavorGroup = client.put_flavor_group(&group).await?;
            match out {
                Output::Json => print_json(&saved)?,
                Output::Table => print!("{}", groups_table(std::slice::from_ref(&saved))),
            }
        }
        GroupCmd::Assign { host, group, conn } => {
            let done: serde_json::Value = AdminClient::new(&conn)?
                .assign_group(
                    &host,
                    &AssignGroup {
                        flavor_group: group.clone(),
                    },
                )
                .await?;
            match out {
                Output::Json => print_json(&done)?,
                Output::Table => println!("{host} is now judged by flavor group {group}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn groups_table(groups: &[FlavorGroup]) -> String {
    let mut t = Table::new(&["GROUP", "SCHEDULE", "POLICIES"]);
    for g in groups {
        let schedule = g.schedule.map_or("service default".to_string(), |s| {
            format!("every {}s, grace {}s", s.interval_secs, s.grace_secs)
        });
        let policies = g
            .policies
            .iter()
            .map(|p| format!("{}:{:?}:{:?}", p.part.name(), p.match_type, p.required))
            .collect::<Vec<_>>()
            .join(" ");
        t.row(vec![g.name.clone(), schedule, policies]);
    }
    t.render()
}
