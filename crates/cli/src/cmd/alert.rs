//! `ironroot alert`: the service's alerts (every loss of trust and every violation),
//! listed with filters, acknowledged and resolved (docs/alerts.md).

use super::admin::{print_json, AdminClient, Conn};
use super::key::utc;
use super::{Output, Table};
use ironroot_api::{AlertList, AlertRecord};
use ironroot_client::AlertQuery;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum AlertCmd {
    /// List alerts, most recently seen first.
    List {
        /// open, acknowledged or resolved.
        #[arg(long)]
        state: Option<String>,
        /// The lowest severity shown (high shows high and critical).
        #[arg(long)]
        severity: Option<String>,
        /// Seen at or after this time (unix seconds).
        #[arg(long)]
        since: Option<u64>,
        /// The `next` of a previous page.
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Acknowledge an open alert: it stays acknowledged (its repeats are counted, not sent)
    /// until it is resolved.
    Ack {
        id: String,
        /// Who acknowledges it (recorded on the alert).
        #[arg(long)]
        by: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Resolve an alert; a new occurrence reopens it.
    Resolve {
        id: String,
        /// Who resolves it (recorded on the alert).
        #[arg(long)]
        by: String,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(cmd: AlertCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        AlertCmd::List {
            state,
            severity,
            since,
            after,
            limit,
            conn,
        } => {
            let q = AlertQuery {
                state,
                severity,
                since,
                after,
                limit,
                ..Default::default()
            };
            let list: AlertList = AdminClient::new(&conn)?.alerts(&q).await?;
            match out {
                Output::Json => print_json(&list)?,
                Output::Table if list.alerts.is_empty() => println!("no alerts"),
                Output::Table => {
                    println!("{}", alerts_table(&list.alerts));
                    if let Some(next) = list.next {
                        println!("more: --after {next}");
                    }
                }
            }
        }
        AlertCmd::Ack { id, by, conn } => {
            let a = AdminClient::new(&conn)?.ack_alert(&id, &by).await?;
            show(&a, out)?;
        }
        AlertCmd::Resolve { id, by, conn } => {
            let a = AdminClient::new(&conn)?.resolve_alert(&id, &by).await?;
            show(&a, out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(a: &AlertRecord, out: Output) -> anyhow::Result<()> {
    match out {
        Output::Json => print_json(a)?,
        Output::Table => println!("{}", alerts_table(std::slice::from_ref(a))),
    }
    Ok(())
}

fn alerts_table(alerts: &[AlertRecord]) -> String {
    let mut t = Table::new(&[
        "ID",
        "SEVERITY",
        "STATE",
        "COUNT",
        "LAST SEEN",
        "SUBJECT",
        "TITLE",
        "REMEDIATION",
    ]);
    for a in alerts {
        let state = match (&a.acknowledged_by, &a.resolved_by, a.resolved_automatically) {
            (Some(by), _, _) => format!("{} by {by}", a.state),
            (_, Some(by), _) => format!("{} by {by}", a.state),
            (_, _, true) => format!("{} (automatically)", a.state),
            _ => a.state.clone(),
        };
        t.row(vec![
            a.id.clone(),
            a.severity.to_string(),
            state,
            a.count.to_string(),
            utc(a.last_seen),
            a.subject.clone(),
            a.title.clone(),
            a.remediation.as_str().to_owned(),
        ]);
    }
    t.render()
}
