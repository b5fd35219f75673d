//! `ironroot host`: hosts and their trust, deletion, and the live stream of trust changes.

use super::{ago, exit_for, print_json, until, AdminClient, Conn};
use crate::cmd::{printable, Output, Table};
use anyhow::{bail, Context};
use ironroot_api::{HostSummary, TrustState};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum HostCmd {
    /// List enrolled hosts with their trust. Exit code 2 if any host is not trusted.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// One host (by id or hostname), with every failed rule. Exit code 2 if it is not trusted.
    Show {
        host: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Follow trust changes as they happen (the service's event stream), one line each,
    /// until interrupted. With --output json, one JSON event per line. After a break (a
    /// service restart, a replica gone) it reconnects and resumes where it stopped.
    Watch {
        #[command(flatten)]
        conn: Conn,
    },
    /// Delete a host from the service: its record, its report history, its asset tags and
    /// its trust state. Exit code 1 if the service knows no such host.
    ///
    /// Needed to re-use a hostname for a new TPM. A hostname belongs to the TPM (the EK)
    /// that enrolled under it first, and a node cannot take the name of another host: after
    /// a TPM or motherboard is replaced, a TPM is cleared, or a name is given to another
    /// machine, the node's enrollment is refused until the old host is deleted. Delete it,
    /// then let the node enroll again: it becomes a new host, with no trust until its
    /// first passing attestation. Save what you need from the old host's reports first
    /// (`ironroot report list HOST --output json`): they are deleted with it.
    Delete {
        /// The host, by id or hostname.
        host: String,
        #[command(flatten)]
        conn: Conn,
    },
    Tag(crate::cmd::asset_tag::TagArgs),
    Untag(crate::cmd::asset_tag::UntagArgs),
}

/// What `DELETE /v1/hosts/{id}` answers.
#[derive(serde::Deserialize, serde::Serialize)]
struct Deleted {
    deleted: String,
}

pub fn hosts_table(hosts: &[HostSummary]) -> String {
    let mut t = Table::new(&["HOST", "TRUST", "LAST ATTESTED", "VALID UNTIL", "HOST ID"]);
    for h in hosts {
        t.row(vec![
            h.hostname.clone(),
            h.trust.as_str().to_uppercase(),
            h.last_attested_at
                .map(ago)
                .unwrap_or_else(|| "never".into()),
            h.trust_expires_at.map(until).unwrap_or_else(|| "-".into()),
            h.host_id.clone(),
        ]);
    }
    t.render()
}

pub async fn host(cmd: HostCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        HostCmd::List { conn } => {
            let hosts = AdminClient::new(&conn)?.hosts().await?;
            match out {
                Output::Json => print_json(&hosts)?,
                Output::Table => println!("{}", hosts_table(&hosts)),
            }
            Ok(exit_for(
                hosts.iter().all(|h| h.trust == TrustState::Trusted),
            ))
        }
        HostCmd::Tag(args) => crate::cmd::asset_tag::tag(args, out).await,
        HostCmd::Untag(args) => crate::cmd::asset_tag::untag(args, out).await,
        HostCmd::Watch { conn } => {
            watch(&AdminClient::new(&conn)?, out).await?;
            Ok(ExitCode::SUCCESS)
        }
        HostCmd::Show { host, conn } => {
            let h: HostSummary = AdminClient::new(&conn)?.host(&host).await?;
            match out {
                Output::Json => print_json(&h)?,
                Output::Table => println!("{}", host_text(&h)),
            }
            Ok(exit_for(h.trust == TrustState::Trusted))
        }
        HostCmd::Delete { host, conn } => {
            let client = AdminClient::new(&conn)?;
            // By id or hostname: the host is looked up first, then deleted by its id.
            let h: HostSummary = client
                .host(&host)
                .await
                .with_context(|| format!("cannot delete host {}", printable(&host)))?;
            let done: Deleted = client
                .delete_host(&h.host_id)
                .await
                .map_err(anyhow::Error::from)
                .and_then(|v| {
                    serde_json::from_value(v).context("unexpected response from the service")
                })
                .with_context(|| format!("cannot delete host {}", printable(&host)))?;
            match out {
                Output::Json => print_json(&done)?,
                Output::Table => println!("{}", deleted_text(&h, &done)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `host show`: the host's row, then every failed rule of its latest report.
fn host_text(h: &HostSummary) -> String {
    let mut s = hosts_table(std::slice::from_ref(h));
    for f in &h.failures {
        s.push_str(&format!("\n  failed: {}", printable(f)));
    }
    s
}

fn deleted_text(h: &HostSummary, done: &Deleted) -> String {
    format!(
        "deleted host {} (host id {}) with its reports, asset tags and trust state; \
         a node may now enroll under that name",
        printable(&h.hostname),
        printable(&done.deleted)
    )
}

/// Prints each `trust` event of the server-sent event stream as it arrives. When the
/// stream breaks (a service restart, a replica gone), reconnects with `Last-Event-ID`
/// so that no event is missed or printed twice; only the first connection must succeed.
async fn watch(client: &AdminClient, out: Output) -> anyhow::Result<()> {
    let mut last_id: Option<i64> = None;
    let mut resp = client.event_stream("/v1/events", None).await?;
    loop {
        match follow(&mut resp, &mut last_id, out).await {
            Ok(()) => eprintln!("the event stream ended; reconnecting"),
            Err(e) => eprintln!("the event stream broke ({e:#}); reconnecting"),
        }
        let mut wait = std::time::Duration::from_millis(250);
        resp = loop {
            tokio::time::sleep(wait).await;
            match client.event_stream("/v1/events", last_id).await {
                Ok(r) => break r,
                Err(e) => {
                    eprintln!(
                        "cannot reconnect ({e:#}); retrying in {}s",
                        wait.as_secs().max(1)
                    );
                    wait = (wait * 2).min(std::time::Duration::from_secs(10));
                }
            }
        };
    }
}

/// Reads events until the stream ends, remembering the last event's id.
async fn follow(
    resp: &mut ironroot_client::EventStream,
    last_id: &mut Option<i64>,
    out: Output,
) -> anyhow::Result<()> {
    let mut buf = String::new();
    while let Some(chunk) = resp.chunk().await? {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        if buf.len() > 1 << 20 {
            bail!("an event larger than 1 MiB");
        }
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
            };
            let Some(data) = field("data:") else { continue };
            match (field("event:"), out) {
                (Some("trust"), Output::Json) => println!("{data}"),
                (Some("trust"), Output::Table) => {
                    let e: ironroot_api::TrustEvent =
                        serde_json::from_str(data).context("malformed event")?;
                    println!("{}", trust_event_line(&e));
                }
                (Some("lagged"), _) => {
                    eprintln!(
                        "warning: events were missed ({}); run `ironroot host list`",
                        printable(data)
                    )
                }
                _ => {}
            }
            if let Some(id) = field("id:").and_then(|i| i.parse().ok()) {
                *last_id = Some(id);
            }
        }
    }
    Ok(())
}

/// One `host watch` line; the hostname and the reason come from the node and the service.
fn trust_event_line(e: &ironroot_api::TrustEvent) -> String {
    format!(
        "{}  {}  {} -> {}{}",
        e.at,
        printable(&e.hostname),
        e.previous.as_str(),
        e.trust.as_str().to_uppercase(),
        e.reasons
            .first()
            .map(|r| format!("  ({})", printable(r)))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{assert_inert, FORGED};
    use super::*;

    fn host(hostname: &str, failures: &[&str]) -> HostSummary {
        HostSummary {
            host_id: "5b0e6a7c-1111-4222-8333-944445555666".into(),
            hostname: hostname.into(),
            hardware_uuid: "hw".into(),
            trust: TrustState::Untrusted,
            enrolled_at: 0,
            last_report_id: None,
            last_attested_at: None,
            trust_expires_at: None,
            flavor_group: "automatic".into(),
            failures: failures.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn hostname_with_newline_and_screen_clear_cannot_forge_host_list_rows() {
        let out = hosts_table(&[host(FORGED, &[])]);
        assert_eq!(out.lines().count(), 3, "{out}");
        assert_inert(&out);
    }

    #[test]
    fn failure_lines_of_host_show_cannot_forge_lines() {
        let out = host_text(&host("node-9", &[FORGED]));
        assert_eq!(out.lines().count(), 4, "{out}");
        assert_inert(&out);
    }

    #[test]
    fn host_watch_line_cannot_forge_events() {
        let e: ironroot_api::TrustEvent = serde_json::from_value(serde_json::json!({
            "host_id": "h", "hostname": FORGED, "previous": "trusted", "trust": "untrusted",
            "at": 1, "report_id": null, "report_jws": null, "reasons": [FORGED]
        }))
        .unwrap();
        let out = trust_event_line(&e);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert_inert(&out);
    }

    #[test]
    fn host_delete_names_the_freed_hostname_escaped() {
        let out = deleted_text(
            &host(FORGED, &[]),
            &Deleted {
                deleted: "5b0e6a7c".into(),
            },
        );
        assert_eq!(out.lines().count(), 1, "{out}");
        assert_inert(&out);
    }

    #[test]
    fn host_delete_is_a_subcommand_that_explains_hostname_reuse() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            host: HostCmd,
        }
        let cli = Cli::try_parse_from([
            "host",
            "delete",
            "node-1",
            "--server",
            "https://s:8443",
            "--ca",
            "c",
            "--token-file",
            "t",
        ])
        .unwrap();
        assert!(matches!(cli.host, HostCmd::Delete { ref host, .. } if host == "node-1"));
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("delete")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("re-use a hostname for a new TPM"), "{help}");
        assert!(
            help.contains("cannot take the name of another host"),
            "{help}"
        );
        // The host is required: no accidental delete of "everything".
        assert!(Cli::try_parse_from(["host", "delete", "--ca", "c", "--token-file", "t"]).is_err());
    }
}
