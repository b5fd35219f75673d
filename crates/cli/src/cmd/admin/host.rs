//! `ironroot host`: hosts and their trust, deletion, binding to Kubernetes Nodes, and the
//! live stream of trust changes.

use super::{ago, exit_for, print_json, until, AdminClient, Conn};
use crate::cmd::{printable, Output, Table};
use anyhow::Context;
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
    /// Bind a host (by id or hostname) to the Kubernetes Node it is.
    ///
    /// This binding is what lets the Kubernetes controller publish the host's trust,
    /// certified asset tags and latest signed report on that Node (labels, taint,
    /// annotations); an unbound host is published nowhere. It must be made by an
    /// administrator who knows which machine the Node runs on: it is never inferred from
    /// the hostname or a UUID the node reports, which a node's root could choose to lend
    /// its trust to another Node. A Node is bound to at most one host (exit code 1 names
    /// the host holding it); binding a host again moves it to the new Node.
    Bind {
        /// The host, by id or hostname.
        host: String,
        /// The Kubernetes Node's name (`kubectl get nodes`).
        node: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Unbind a host (by id or hostname) from its Kubernetes Node: the controller stops
    /// publishing the host's trust there. Exit code 1 if the host is not bound.
    Unbind {
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
    let mut t = Table::new(&[
        "HOST",
        "TRUST",
        "LAST ATTESTED",
        "VALID UNTIL",
        "NODE",
        "HOST ID",
    ]);
    for h in hosts {
        t.row(vec![
            h.hostname.clone(),
            h.trust.as_str().to_uppercase(),
            h.last_attested_at
                .map(ago)
                .unwrap_or_else(|| "never".into()),
            h.trust_expires_at.map(until).unwrap_or_else(|| "-".into()),
            h.node.clone().unwrap_or_else(|| "-".into()),
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
        HostCmd::Bind { host, node, conn } => {
            let n = AdminClient::new(&conn)?
                .bind_node(&host, &ironroot_api::BindNode { node: node.clone() })
                .await
                .with_context(|| {
                    format!(
                        "cannot bind host {} to Kubernetes node {}",
                        printable(&host),
                        printable(&node)
                    )
                })?;
            match out {
                Output::Json => print_json(&n)?,
                Output::Table => println!("{}", bound_text(&n)),
            }
            Ok(ExitCode::SUCCESS)
        }
        HostCmd::Unbind { host, conn } => {
            let gone = AdminClient::new(&conn)?
                .unbind_node(&host)
                .await
                .with_context(|| format!("cannot unbind host {}", printable(&host)))?;
            match out {
                Output::Json => print_json(&gone)?,
                Output::Table => println!(
                    "host {} is no longer bound to Kubernetes node {}",
                    printable(&host),
                    printable(&gone.node)
                ),
            }
            Ok(ExitCode::SUCCESS)
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

fn bound_text(n: &ironroot_api::NodeTrust) -> String {
    format!(
        "host {} (host id {}) is bound to Kubernetes node {}; trust {} is published there",
        printable(&n.hostname),
        printable(&n.host_id),
        printable(&n.node),
        n.trust.as_str().to_uppercase()
    )
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
    while let Some(e) = resp.next_event().await? {
        match (e.event.as_deref(), out) {
            (Some("trust"), Output::Json) => println!("{}", e.data.trim()),
            (Some("trust"), Output::Table) => {
                let t: ironroot_api::TrustEvent =
                    serde_json::from_str(&e.data).context("malformed event")?;
                println!("{}", trust_event_line(&t));
            }
            (Some("lagged"), _) => {
                eprintln!(
                    "warning: events were missed ({}); run `ironroot host list`",
                    printable(e.data.trim())
                )
            }
            _ => {}
        }
        if let Some(id) = e.id {
            *last_id = Some(id);
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
            node: None,
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
    fn host_list_shows_the_bound_node_or_a_dash() {
        let mut bound = host("node-1", &[]);
        bound.node = Some("worker-1".into());
        let out = hosts_table(&[bound, host("node-2", &[])]);
        let column = |line: usize| out.lines().nth(line)?.split_whitespace().nth(4);
        // The header's LAST ATTESTED and VALID UNTIL are two words each.
        assert_eq!(
            out.lines().next().unwrap().split_whitespace().nth(6),
            Some("NODE")
        );
        assert_eq!(column(2), Some("worker-1"), "{out}");
        assert_eq!(column(3), Some("-"), "{out}");
    }

    #[test]
    fn host_bind_and_unbind_take_a_host_and_explain_who_binds() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            host: HostCmd,
        }
        let conn = [
            "--server",
            "https://s:8443",
            "--ca",
            "c",
            "--token-file",
            "t",
        ];
        let bind = [&["host", "bind", "node-1", "worker-1"][..], &conn].concat();
        let cli = Cli::try_parse_from(bind).unwrap();
        assert!(
            matches!(cli.host, HostCmd::Bind { ref host, ref node, .. } if host == "node-1" && node == "worker-1")
        );
        let unbind = [&["host", "unbind", "node-1"][..], &conn].concat();
        let cli = Cli::try_parse_from(unbind).unwrap();
        assert!(matches!(cli.host, HostCmd::Unbind { ref host, .. } if host == "node-1"));
        // Both the host and the Node are required.
        let half = [&["host", "bind", "node-1"][..], &conn].concat();
        assert!(Cli::try_parse_from(half).is_err());
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("bind")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("Kubernetes controller publish"), "{help}");
        assert!(help.contains("must be made by an"), "{help}");
        assert!(help.contains("never inferred"), "{help}");
    }

    #[test]
    fn host_bind_confirmation_cannot_forge_lines() {
        let n: ironroot_api::NodeTrust = serde_json::from_value(serde_json::json!({
            "host_id": FORGED, "hostname": FORGED, "hardware_uuid": "u", "node": FORGED,
            "trust": "trusted", "trust_expires_at": null, "asset_tags": {},
            "report_id": null, "report_jws": null, "report_expires": null, "failures": []
        }))
        .unwrap();
        let out = bound_text(&n);
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
