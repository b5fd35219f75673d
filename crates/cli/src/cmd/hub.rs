//! `ironroot cluster`, `ironroot policy` and `ironroot compliance`: the policy hub from
//! the command line (docs/hub.md). Clusters are registered with a key made here, which
//! never leaves the directory it is written to; policy sets are checked locally before
//! they are sent; compliance history is exported as JSON or CSV.

use super::admin::{print_json, AdminClient, Conn};
use super::key::utc;
use super::sign::write_new;
use super::{Output, Table};
use anyhow::Context;
use ironroot_api::{ComplianceOverview, PolicyChange, PolicyVersion, RegisterCluster};
use ironroot_client::HistoryQuery;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum ClusterCmd {
    /// Register a Kubernetes cluster: makes its key here, has the hub certify it, and
    /// writes cluster.key (0600), cluster.crt and ca.crt into --out for its controller
    /// (`ironroot controller --cluster-cert DIR/cluster.crt --cluster-key DIR/cluster.key`).
    ///
    /// Example: ironroot cluster register east --out ./east-identity
    Register {
        /// The cluster's name: a DNS label, unique; policy scopes name clusters by it.
        name: String,
        /// A new directory (or an empty one) for the identity.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        conn: Conn,
    },
    /// Every registered cluster, with what the hub last heard from it.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Unregister a cluster: its certificate is refused from now on.
    Remove {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(clap::Subcommand)]
pub enum PolicyCmd {
    /// Check a policy set file (YAML or JSON) without sending it: the same validation the
    /// hub applies.
    Check { file: PathBuf },
    /// Publish a new version of the policy set. Its `version` must be the hub's current
    /// version plus one, so two people editing at once cannot overwrite each other.
    ///
    /// Example: ironroot policy set policies.yaml --by alice --comment "registries: add quay.io"
    Set {
        file: PathBuf,
        /// Who makes the change (recorded with it).
        #[arg(long)]
        by: String,
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// The current policy set (or --version N), as it was written.
    Show {
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Every version: who changed it, when, and why.
    History {
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(clap::Subcommand)]
pub enum ComplianceCmd {
    /// Each policy across every cluster: the worst status wins (non-compliant, then
    /// pending, then unknown, then compliant). Exit status 1 when anything is not compliant.
    Show {
        #[command(flatten)]
        conn: Conn,
    },
    /// Export the history of status changes, as JSON (the global --output json) or CSV.
    ///
    /// Example: ironroot compliance history --since 2026-12-01T00:00:00Z --csv --file q4.csv
    History {
        /// Changes at or after (RFC 3339 or unix seconds).
        #[arg(long)]
        since: Option<String>,
        /// Changes before (RFC 3339 or unix seconds).
        #[arg(long)]
        until: Option<String>,
        /// A cluster's id or name.
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long)]
        policy: Option<String>,
        /// CSV (RFC 4180, a header row) instead of a table or JSON.
        #[arg(long)]
        csv: bool,
        /// Write to this new file instead of standard output.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn cluster(cmd: ClusterCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        ClusterCmd::Register {
            name,
            out: dir,
            conn,
        } => {
            let client = AdminClient::new(&conn)?;
            prepare_dir(&dir)?;
            let (key_pem, csr_pem) = ironroot_client::new_key_and_csr(&name)?;
            let reg = client
                .register_cluster(&RegisterCluster { name, csr_pem })
                .await?;
            write_new(&dir.join("cluster.key"), key_pem.as_bytes(), 0o600)?;
            write_new(&dir.join("cluster.crt"), reg.cert_pem.as_bytes(), 0o644)?;
            write_new(&dir.join("ca.crt"), reg.ca_pem.as_bytes(), 0o644)?;
            match out {
                Output::Json => print_json(&serde_json::json!({
                    "id": reg.id, "name": reg.name, "not_after": reg.not_after,
                    "dir": dir.display().to_string(),
                }))?,
                Output::Table => println!(
                    "registered cluster {} ({}), certificate valid until {}; identity in {}",
                    reg.name,
                    reg.id,
                    utc(reg.not_after),
                    dir.display()
                ),
            }
        }
        ClusterCmd::List { conn } => {
            let list = AdminClient::new(&conn)?.clusters().await?;
            match out {
                Output::Json => print_json(&list)?,
                Output::Table if list.is_empty() => println!("no clusters"),
                Output::Table => {
                    let mut t =
                        Table::new(&["ID", "NAME", "STATUS", "POLICY", "LAST REPORT", "WEBHOOK"]);
                    for c in &list {
                        t.row(vec![
                            c.id.clone(),
                            c.name.clone(),
                            c.status.as_str().to_owned(),
                            c.policy_version.map_or("-".into(), |v| v.to_string()),
                            c.last_report_at.map_or("never".into(), utc),
                            match c.webhook_serving {
                                Some(true) => "serving".into(),
                                Some(false) => "DOWN".into(),
                                None => "-".into(),
                            },
                        ]);
                    }
                    println!("{}", t.render());
                }
            }
        }
        ClusterCmd::Remove { id, conn } => {
            let v = AdminClient::new(&conn)?.remove_cluster(&id).await?;
            match out {
                Output::Json => print_json(&v)?,
                Output::Table => println!("cluster {id} removed: its certificate is refused"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `dir` exists afterwards and holds none of the identity's files (nothing is replaced).
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for f in ["cluster.key", "cluster.crt", "ca.crt"] {
        anyhow::ensure!(
            !dir.join(f).exists(),
            "{} already exists: register into a new directory",
            dir.join(f).display()
        );
    }
    Ok(())
}

fn read_policy(file: &Path) -> anyhow::Result<(String, ironroot_policy::PolicySet)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let set = ironroot_policy::PolicySet::from_yaml(text.as_bytes())
        .with_context(|| format!("{} is not a valid policy set", file.display()))?;
    Ok((text, set))
}

pub async fn policy(cmd: PolicyCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCmd::Check { file } => {
            let (_, set) = read_policy(&file)?;
            let ids: Vec<&str> = set.policies().iter().map(|p| p.id.as_str()).collect();
            match out {
                Output::Json => print_json(&serde_json::json!({
                    "version": set.version, "policies": ids,
                }))?,
                Output::Table => println!(
                    "{}: valid, version {}, {} policies: {}",
                    file.display(),
                    set.version,
                    ids.len(),
                    ids.join(", ")
                ),
            }
        }
        PolicyCmd::Set {
            file,
            by,
            comment,
            conn,
        } => {
            let client = AdminClient::new(&conn)?;
            let (document, _) = read_policy(&file)?;
            let v = client
                .put_policies(&PolicyChange {
                    document,
                    by,
                    comment,
                })
                .await?;
            match out {
                Output::Json => print_json(&v)?,
                Output::Table => println!("{}", versions_table(std::slice::from_ref(&v))),
            }
        }
        PolicyCmd::Show { version, conn } => {
            let client = AdminClient::new(&conn)?;
            let doc = match version {
                Some(n) => client.policy_version(n).await?,
                None => client.policies().await?,
            };
            match out {
                Output::Json => print_json(&doc)?,
                Output::Table => {
                    println!("{}", versions_table(std::slice::from_ref(&doc.version)));
                    println!();
                    print!("{}", doc.document);
                }
            }
        }
        PolicyCmd::History { conn } => {
            let h = AdminClient::new(&conn)?.policy_versions().await?;
            match out {
                Output::Json => print_json(&h)?,
                Output::Table if h.versions.is_empty() => println!("no policy set yet"),
                Output::Table => println!("{}", versions_table(&h.versions)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn versions_table(versions: &[PolicyVersion]) -> String {
    let mut t = Table::new(&["VERSION", "AT", "BY", "POLICIES", "SHA-256", "COMMENT"]);
    for v in versions {
        t.row(vec![
            v.version.to_string(),
            utc(v.at),
            v.by.clone(),
            v.policies.len().to_string(),
            v.sha256.chars().take(12).collect(),
            v.comment.clone().unwrap_or_default(),
        ]);
    }
    t.render()
}

pub async fn compliance(cmd: ComplianceCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        ComplianceCmd::Show { conn } => {
            let o = AdminClient::new(&conn)?.compliance().await?;
            match out {
                Output::Json => print_json(&o)?,
                Output::Table => println!("{}", overview_table(&o)),
            }
            Ok(if o.status == ironroot_api::ComplianceStatus::Compliant {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        ComplianceCmd::History {
            since,
            until,
            cluster,
            policy,
            csv,
            file,
            conn,
        } => {
            let q = HistoryQuery {
                since: since.as_deref().map(time_arg).transpose()?,
                until: until.as_deref().map(time_arg).transpose()?,
                cluster,
                policy,
            };
            let client = AdminClient::new(&conn)?;
            let text = if csv {
                client.compliance_history_csv(&q).await?
            } else if out == Output::Json || file.is_some() {
                serde_json::to_string_pretty(&client.compliance_history(&q).await?)? + "\n"
            } else {
                let h = client.compliance_history(&q).await?;
                let mut t =
                    Table::new(&["AT", "CLUSTER", "POLICY", "VERSION", "STATUS", "VIOLATIONS"]);
                for c in &h.changes {
                    t.row(vec![
                        utc(c.at),
                        c.cluster_name.clone(),
                        c.policy.clone(),
                        c.policy_version.to_string(),
                        c.status.as_str().to_owned(),
                        c.violations.to_string(),
                    ]);
                }
                t.render() + "\n"
            };
            match file {
                Some(f) => {
                    write_new(&f, text.as_bytes(), 0o644)?;
                    eprintln!("wrote {}", f.display());
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// RFC 3339 or unix seconds.
pub(super) fn time_arg(s: &str) -> anyhow::Result<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    ironroot_timestamp::rfc3339::parse(s).with_context(|| {
        format!("{s:?} is neither RFC 3339 (2026-12-01T00:00:00Z) nor unix seconds")
    })
}

fn overview_table(o: &ComplianceOverview) -> String {
    let mut t = Table::new(&["POLICY", "SEVERITY", "STATUS", "CLUSTERS"]);
    for p in &o.policies {
        let clusters: Vec<String> = p
            .clusters
            .iter()
            .map(|c| format!("{}={}", c.cluster_name, c.status.as_str()))
            .collect();
        t.row(vec![
            p.policy.clone(),
            p.severity.clone(),
            p.status.as_str().to_owned(),
            clusters.join(" "),
        ]);
    }
    let version = o.policy_version.map_or("none".into(), |v| v.to_string());
    format!(
        "policy version {version}: {}\n{}",
        o.status.as_str(),
        t.render()
    )
}
