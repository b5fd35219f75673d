//! `ironroot report`: trust reports, listed, shown, and verified offline against the JWKS.

use super::{ago, exit_for, print_json, AdminClient, Conn};
use crate::cmd::{printable, Output, Table};
use anyhow::Context;
use ironroot_api::ReportRecord;
use ironroot_crypto::JwkSet;
use ironroot_verifier::TrustReport;
use std::path::PathBuf;
use std::process::ExitCode;

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
            res.rule.to_string(),
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
            printable(res.rule.as_str()),
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
            let range = ironroot_client::ReportRange {
                from,
                to,
                limit: Some(limit),
            };
            let list: Vec<ReportRecord> =
                AdminClient::new(&conn)?.host_reports(&host, range).await?;
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
            let rec: ReportRecord = AdminClient::new(&conn)?.report(&id).await?;
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
            let ok = r.is_trusted_at(ironroot_timestamp::now_unix());
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{assert_inert, FORGED};
    use super::*;

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
}
