//! Administrator commands: thin HTTPS calls to the service's admin API, one module per
//! subject (hosts, flavors, reports), sharing the client and the output helpers here.

mod flavor;
mod host;
mod report;

use super::EXIT_UNTRUSTED;
use std::process::ExitCode;

pub use super::client::{AdminClient, Conn, MaybeConn};
pub use flavor::{flavor, FlavorCmd};
pub use host::{host, hosts_table, HostCmd};
pub use report::{report, report_text, ReportCmd};

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn ago(t: u64) -> String {
    format!("{}s ago", ironroot_timestamp::now_unix().saturating_sub(t))
}

fn until(t: u64) -> String {
    let n = ironroot_timestamp::now_unix();
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

#[cfg(test)]
pub(super) const FORGED: &str = "node-9\nnode-1  TRUSTED\x1b[2J";

#[cfg(test)]
/// Nothing a node or the service chose may start a line or reach the terminal raw.
pub(super) fn assert_inert(out: &str) {
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
