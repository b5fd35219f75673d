//! `ironroot sink`: where the service sends alerts: signed webhooks and syslog over TLS
//! (RFC 5424 or CEF). A webhook's secret is read from a file, never from the command line,
//! and the service never shows it again (docs/alerts.md).

use super::admin::{print_json, AdminClient, Conn};
use super::{Output, Table};
use anyhow::Context;
use ironroot_api::{SinkInfo, SinkSpec, SyslogFormat, SyslogSink, WebhookSink};
use std::path::PathBuf;
use std::process::ExitCode;
use zeroize::Zeroizing;

#[derive(clap::Subcommand)]
pub enum SinkCmd {
    /// List the sinks, their queued notices and last error (never their secrets).
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Create or replace a webhook sink: an HTTPS POST of each alert's JSON, signed with
    /// HMAC-SHA256 (X-Ironroot-Signature) under the secret in --secret-file.
    Webhook {
        name: String,
        #[arg(long)]
        url: String,
        /// A file holding the secret (at least 16 bytes; trailing newline ignored).
        #[arg(long)]
        secret_file: PathBuf,
        /// The receiver's CA (PEM); the system's roots when absent.
        #[arg(long)]
        ca: Option<PathBuf>,
        #[arg(long)]
        min_severity: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Create or replace a syslog sink: TCP with TLS, RFC 5424 records or CEF events.
    Syslog {
        name: String,
        /// host:port of the receiver.
        #[arg(long)]
        address: String,
        /// The receiver's CA (PEM): the only trust anchor.
        #[arg(long)]
        ca: PathBuf,
        /// The name the receiver's certificate must carry (the address's host by default).
        #[arg(long)]
        server_name: Option<String>,
        #[arg(long, value_enum, default_value = "rfc5424")]
        format: Format,
        /// RFC 5424 facility, 0-23 (4 by default).
        #[arg(long)]
        facility: Option<u8>,
        /// The HOSTNAME field (the service's first TLS name by default).
        #[arg(long)]
        hostname: Option<String>,
        #[arg(long)]
        min_severity: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Remove a sink and the notices it had queued.
    Delete {
        name: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Rfc5424,
    Cef,
}

fn severity(s: Option<String>) -> anyhow::Result<Option<ironroot_api::Severity>> {
    s.map(|s| s.parse().map_err(anyhow::Error::from))
        .transpose()
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

pub async fn run(cmd: SinkCmd, out: Output) -> anyhow::Result<ExitCode> {
    let (name, spec, conn) = match cmd {
        SinkCmd::List { conn } => {
            let sinks = AdminClient::new(&conn)?.sinks().await?;
            match out {
                Output::Json => print_json(&sinks)?,
                Output::Table if sinks.is_empty() => {
                    println!("no sinks (ironroot sink webhook|syslog)")
                }
                Output::Table => println!("{}", sinks_table(&sinks)),
            }
            return Ok(ExitCode::SUCCESS);
        }
        SinkCmd::Delete { name, conn } => {
            AdminClient::new(&conn)?.delete_sink(&name).await?;
            println!("sink {name} removed");
            return Ok(ExitCode::SUCCESS);
        }
        SinkCmd::Webhook {
            name,
            url,
            secret_file,
            ca,
            min_severity,
            conn,
        } => {
            let secret = Zeroizing::new(read(&secret_file)?);
            let spec = SinkSpec::Webhook(WebhookSink {
                url,
                secret: Some(secret.trim_end_matches(['\n', '\r']).to_owned()),
                ca_pem: ca.as_ref().map(read).transpose()?,
                min_severity: severity(min_severity)?,
            });
            (name, spec, conn)
        }
        SinkCmd::Syslog {
            name,
            address,
            ca,
            server_name,
            format,
            facility,
            hostname,
            min_severity,
            conn,
        } => {
            let spec = SinkSpec::Syslog(SyslogSink {
                address,
                server_name,
                ca_pem: read(&ca)?,
                format: match format {
                    Format::Rfc5424 => SyslogFormat::Rfc5424,
                    Format::Cef => SyslogFormat::Cef,
                },
                facility,
                hostname,
                min_severity: severity(min_severity)?,
            });
            (name, spec, conn)
        }
    };
    let mut spec = spec;
    let sent = AdminClient::new(&conn)?.put_sink(&name, &spec).await;
    if let SinkSpec::Webhook(w) = &mut spec {
        if let Some(s) = w.secret.take() {
            drop(Zeroizing::new(s));
        }
    }
    let info = sent.with_context(|| format!("cannot configure sink {name}"))?;
    match out {
        Output::Json => print_json(&info)?,
        Output::Table => println!("{}", sinks_table(std::slice::from_ref(&info))),
    }
    Ok(ExitCode::SUCCESS)
}

fn sinks_table(sinks: &[SinkInfo]) -> String {
    let mut t = Table::new(&["NAME", "TYPE", "TARGET", "PENDING", "LAST ERROR"]);
    for s in sinks {
        let (kind, target) = match &s.spec {
            SinkSpec::Webhook(w) => ("webhook".to_owned(), w.url.clone()),
            SinkSpec::Syslog(y) => (
                format!("syslog/{:?}", y.format).to_lowercase(),
                y.address.clone(),
            ),
        };
        t.row(vec![
            s.name.clone(),
            kind,
            target,
            s.pending.to_string(),
            s.last_error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t.render()
}
