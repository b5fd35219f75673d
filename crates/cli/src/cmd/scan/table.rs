//! The report for a terminal: a summary, then vulnerabilities and findings, worst first.
//! Names and versions come from the image (or, for `rescan --service`, from whoever
//! submitted the inventory), so every one goes through [`printable`] or a [`Table`].

use super::store::Rescan;
use crate::cmd::{printable, Table};
use ironroot_scanner::{ScanReport, Severity};
use std::fmt::Write;

pub fn render(r: &ScanReport) -> String {
    let mut out = String::new();
    let os =
        r.os.as_ref()
            .map_or("unknown distribution".to_owned(), |o| {
                o.pretty_name
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", o.id, o.version_id))
            });
    let _ = writeln!(
        out,
        "{} ({}): {}, {} layers, {} packages",
        printable(&r.image.reference),
        printable(&r.image.source),
        printable(&os),
        r.layers.len(),
        r.packages.len()
    );
    if let Some(d) = &r.image.manifest_digest {
        let _ = writeln!(out, "manifest {}", printable(d));
    }
    let _ = writeln!(out, "{}", summary(r));
    if !r.vulnerabilities.is_empty() {
        let mut v: Vec<_> = r.vulnerabilities.iter().collect();
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.package.cmp(&b.package))
                .then(a.id.cmp(&b.id))
        });
        let mut t = Table::new(&[
            "SEVERITY",
            "ID",
            "PACKAGE",
            "INSTALLED",
            "FIXED IN",
            "LAYER",
        ]);
        for x in v {
            t.row(vec![
                x.severity.name().to_uppercase(),
                x.id.clone(),
                x.package.clone(),
                x.version.clone(),
                x.fixed_version.clone().unwrap_or_else(|| "(no fix)".into()),
                x.layer.map_or(String::new(), |l| l.to_string()),
            ]);
        }
        let _ = writeln!(out, "\nVulnerabilities\n{}", t.render());
    }
    if !r.findings.is_empty() {
        let mut f: Vec<_> = r.findings.iter().collect();
        f.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        let mut t = Table::new(&["SEVERITY", "CATEGORY", "ID", "WHERE", "FINDING"]);
        for x in f {
            let place = match (&x.path, x.layer) {
                (Some(p), Some(l)) => format!("{p} (layer {l})"),
                (Some(p), None) => p.clone(),
                (None, _) => "image config".into(),
            };
            t.row(vec![
                x.severity.name().to_uppercase(),
                x.category.clone(),
                x.id.clone(),
                place,
                x.title.clone(),
            ]);
        }
        let _ = writeln!(out, "\nFindings\n{}", t.render());
    }
    for p in &r.problems {
        let _ = writeln!(out, "incomplete: {}", printable(&p.message));
    }
    if !r.suppressed.is_empty() {
        let _ = writeln!(
            out,
            "{} finding(s) ignored by the ignore file",
            r.suppressed.len()
        );
    }
    out.trim_end().to_owned()
}

fn summary(r: &ScanReport) -> String {
    let count = |s: Severity| {
        r.vulnerabilities.iter().filter(|v| v.severity == s).count()
            + r.findings.iter().filter(|f| f.severity == s).count()
    };
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", count(*s), s.name()))
        .collect();
    format!(
        "{} vulnerabilities, {} other findings: {}",
        r.vulnerabilities.len(),
        r.findings.len(),
        parts.join(", ")
    )
}

pub fn rescan(r: &Rescan) -> String {
    let mut out = format!(
        "{} inventories ({} distinct packages) matched again\n",
        r.inventories, r.packages
    );
    for i in &r.images {
        if i.new.is_empty() && i.fixed.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} new, {} gone",
            printable(&i.image),
            i.new.len(),
            i.fixed.len()
        );
        for v in &i.new {
            let _ = writeln!(
                out,
                "  new  {:<8} {} {} {} ({})",
                v.severity.name().to_uppercase(),
                printable(&v.id),
                printable(&v.package),
                printable(&v.version),
                v.fixed_version
                    .as_deref()
                    .map_or("no fix yet".to_owned(), |f| format!(
                        "fixed in {}",
                        printable(f)
                    ))
            );
        }
    }
    out
}

/// The service's database and rescans (`rescan --service`), newest first.
pub fn service_rescans(log: &ironroot_inventory::RescanLog, summary: bool) -> String {
    use crate::cmd::key::utc;
    let mut out = match &log.database {
        Some(m) => format!(
            "database generation {} (loaded {}, newest advisory {})\n",
            m.updated_at,
            utc(m.updated_at),
            utc(m.built_at)
        ),
        None => "no vulnerability database loaded yet\n".to_owned(),
    };
    if let Some(p) = &log.problem {
        let _ = writeln!(out, "problem: {}", printable(p));
    }
    if log.rescans.is_empty() {
        out.push_str("no rescan yet\n");
    }
    for r in &log.rescans {
        let _ = writeln!(
            out,
            "\nrescan at {} against generation {}{}",
            utc(r.finished_at),
            r.generation,
            if r.stale { " (STALE database)" } else { "" }
        );
        if summary {
            let new: usize = r.rescan.images.iter().map(|i| i.new_count).sum();
            let gone: usize = r.rescan.images.iter().map(|i| i.gone_count).sum();
            let _ = writeln!(
                out,
                "{} inventories, {} distinct packages: {} images changed, {new} new findings, {gone} gone",
                r.rescan.inventories,
                r.rescan.packages,
                r.rescan.images.len()
            );
        } else {
            out.push_str(&rescan(&r.rescan));
        }
    }
    out
}
