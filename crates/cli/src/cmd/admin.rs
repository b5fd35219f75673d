//! Administrator commands: thin HTTPS calls to the service's admin API.

use super::{printable, Output, Table, EXIT_UNTRUSTED};
use anyhow::{bail, Context};
use ironroot_api::{FlavorList, FlavorsFromHostRequest, HostSummary, ReportRecord, TrustState};
use ironroot_crypto::JwkSet;
use ironroot_verifier::TrustReport;
use std::path::PathBuf;
use std::process::ExitCode;

pub use super::client::{AdminClient, Conn, MaybeConn};
use super::key::path_segment;

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
    Tag(super::asset_tag::TagArgs),
    Untag(super::asset_tag::UntagArgs),
}

/// What `DELETE /v1/hosts/{id}` answers.
#[derive(serde::Deserialize, serde::Serialize)]
struct Deleted {
    deleted: String,
}

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

#[derive(clap::Subcommand)]
pub enum ReportCmd {
    /// Report history of a host, newest first.
    List {
        host: String,
        /// Only reports created at or after this unix time.
        #[arg(long)]
        from: Option<u64>,
        /// Only reports created at or before this unix time.
        #[arg(long)]
        to: Option<u64>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        conn: Conn,
    },
    /// One report with every rule result.
    Show {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Verify a signed report (compact JWS) offline against the service's JWKS file.
    /// Exit code 0 if the signature holds and the report says trusted and is unexpired; 2 otherwise.
    Verify {
        /// File with the compact JWS.
        report: PathBuf,
        /// The service's JWKS (saved from https://SERVICE/.well-known/jwks.json).
        #[arg(long)]
        jwks: PathBuf,
    },
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn ago(t: u64) -> String {
    format!("{}s ago", now().saturating_sub(t))
}

fn until(t: u64) -> String {
    let n = now();
    if t > n {
        format!("in {}s", t - n)
    } else {
        "expired".into()
    }
}

fn exit_for(all_trusted: bool) -> ExitCode {
    if all_trusted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNTRUSTED)
    }
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
        HostCmd::Tag(args) => super::asset_tag::tag(args, out).await,
        HostCmd::Untag(args) => super::asset_tag::untag(args, out).await,
        HostCmd::Watch { conn } => {
            watch(&AdminClient::new(&conn)?, out).await?;
            Ok(ExitCode::SUCCESS)
        }
        HostCmd::Show { host, conn } => {
            let h: HostSummary = AdminClient::new(&conn)?
                .get(&format!("/v1/hosts/{}", path_segment(&host)))
                .await?;
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
                .get(&format!("/v1/hosts/{}", path_segment(&host)))
                .await
                .with_context(|| format!("cannot delete host {}", printable(&host)))?;
            let done: Deleted = client
                .delete(&format!("/v1/hosts/{}", path_segment(&h.host_id)))
                .await
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
            AdminClient::new(&conn)?
                .post::<_, FlavorList>("/v1/flavors/from-host", &req)
                .await?
        }
        FlavorCmd::List { group, conn } => {
            let q = group
                .map(|g| format!("?group={}", path_segment(&g)))
                .unwrap_or_default();
            AdminClient::new(&conn)?
                .get::<FlavorList>(&format!("/v1/flavors{q}"))
                .await?
        }
        FlavorCmd::Import { file, group, conn } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let list: FlavorList = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a flavor list", file.display()))?;
            let q = group
                .map(|g| format!("?group={}", path_segment(&g)))
                .unwrap_or_default();
            AdminClient::new(&conn)?
                .post::<_, FlavorList>(&format!("/v1/flavors{q}"), &list)
                .await?
        }
        FlavorCmd::Delete { id, conn } => {
            let v: serde_json::Value = AdminClient::new(&conn)?
                .delete(&format!("/v1/flavors/{}", path_segment(&id)))
                .await?;
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

/// A trust report for a terminal: every string in it came from the service or the node
/// and goes through [`printable`].
pub fn report_text(r: &TrustReport) -> String {
    let mut s = format!(
        "host {} ({}): {}  group {}  reset {} restart {}\n",
        printable(&r.hostname),
        printable(&r.host_id),
        if r.trusted { "TRUSTED" } else { "UNTRUSTED" },
        printable(&r.group),
        r.reset_count,
        r.restart_count
    );
    let mut t = Table::new(&["RULE", "SUBJECT", "PART", "FLAVOR", "RESULT"]);
    for res in &r.results {
        t.row(vec![
            res.rule.clone(),
            res.subject.clone().unwrap_or_default(),
            res.part.map(|p| p.name().to_owned()).unwrap_or_default(),
            res.flavor_label.clone().unwrap_or_default(),
            if res.trusted {
                "pass".into()
            } else {
                "FAIL".into()
            },
        ]);
    }
    s.push_str(&t.render());
    for (res, f) in r.failed_faults() {
        s.push_str(&format!(
            "\n\n{} failed: {:?}\n  {}",
            printable(&res.rule),
            f.name,
            printable(&f.description)
        ));
        if let Some(e) = &f.expected {
            s.push_str(&format!("\n  expected: {}", printable(e)));
        }
        if let Some(a) = &f.actual {
            s.push_str(&format!("\n  seen:     {}", printable(a)));
        }
    }
    s
}

pub async fn report(cmd: ReportCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCmd::List {
            host,
            from,
            to,
            limit,
            conn,
        } => {
            let mut q = format!("?limit={limit}");
            if let Some(f) = from {
                q.push_str(&format!("&from={f}"));
            }
            if let Some(t) = to {
                q.push_str(&format!("&to={t}"));
            }
            let list: Vec<ReportRecord> = AdminClient::new(&conn)?
                .get(&format!("/v1/hosts/{}/reports{q}", path_segment(&host)))
                .await?;
            match out {
                Output::Json => print_json(&list)?,
                Output::Table => {
                    let mut t = Table::new(&["REPORT ID", "CREATED", "TRUSTED"]);
                    for r in &list {
                        t.row(vec![
                            r.report_id.clone(),
                            ago(r.created),
                            r.trusted.to_string(),
                        ]);
                    }
                    println!("{}", t.render());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportCmd::Show { id, conn } => {
            let rec: ReportRecord = AdminClient::new(&conn)?
                .get(&format!("/v1/reports/{}", path_segment(&id)))
                .await?;
            let report: TrustReport = serde_json::from_value(rec.report.clone())?;
            match out {
                Output::Json => print_json(&rec)?,
                Output::Table => println!("{}", report_text(&report)),
            }
            Ok(exit_for(report.trusted))
        }
        ReportCmd::Verify { report, jwks } => {
            let jws = std::fs::read_to_string(&report)
                .with_context(|| format!("reading {}", report.display()))?;
            let set: JwkSet = serde_json::from_slice(
                &std::fs::read(&jwks).with_context(|| format!("reading {}", jwks.display()))?,
            )
            .context("not a JWK set")?;
            let payload = set
                .verify_compact(jws.trim())
                .context("the report's signature does not verify")?;
            let r: TrustReport = serde_json::from_slice(&payload)
                .context("the signed payload is not a trust report")?;
            let ok = r.is_trusted_at(now());
            match out {
                Output::Json => print_json(&r)?,
                Output::Table => println!("signature: valid\n{}", report_text(&r)),
            }
            if r.trusted && !ok {
                eprintln!("the report has expired");
            }
            Ok(exit_for(ok))
        }
    }
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
    resp: &mut reqwest::Response,
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
    use super::*;

    const FORGED: &str = "node-9\nnode-1  TRUSTED\x1b[2J";

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

    /// Nothing a node or the service chose may start a line or reach the terminal raw.
    fn assert_inert(out: &str) {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "a control character got through: {out:?}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("node-1")),
            "a forged line: {out:?}"
        );
        assert!(
            out.contains("node-9\\nnode-1  TRUSTED\\u{1b}[2J"),
            "{out:?}"
        );
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
    fn report_text_escapes_hostname_and_fault_text() {
        let r: TrustReport = serde_json::from_value(serde_json::json!({
            "host_id": "h", "hostname": FORGED, "trusted": false, "created": 0,
            "expires": 0, "group": FORGED, "quoted_pcrs": {}, "reset_count": 0,
            "restart_count": 0,
            "results": [{"rule": "ima_files", "subject": FORGED, "trusted": false,
                "faults": [{"name": "PcrValueMismatch", "description": FORGED,
                    "expected": FORGED, "actual": FORGED}]}]
        }))
        .unwrap();
        assert_inert(&report_text(&r));
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
