//! SARIF 2.1.0 (OASIS), shaped for GitHub code scanning: one run, one rule per
//! vulnerability id and per check id, `security-severity` on every rated rule, and a
//! location on every result (the file for a check, the package database for a package).

use super::{package_of, security_severity, Purl, RuleText, TOOL_NAME, TOOL_URI};
use crate::{CheckFinding, ScanReport, Severity, Vulnerability};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The report as a SARIF 2.1.0 log. `rules` supplies the catalogue text of check rules; a
/// finding whose id is not in it is described by its own title and remediation.
pub fn sarif(report: &ScanReport, rules: &[RuleText<'_>]) -> Value {
    let mut table = RuleTable::default();
    let mut results = Vec::new();
    for v in &report.vulnerabilities {
        let index = table.vulnerability(report, v);
        results.push(vulnerability_result(report, v, index));
    }
    for f in &report.findings {
        let index = table.check(f, rules);
        results.push(check_result(report, f, index));
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "version": report.scanner_version,
                "informationUri": TOOL_URI,
                "rules": table.finish(),
            }},
            "results": results,
            "properties": run_properties(report),
        }],
    })
}

/// The rules seen so far, in first-seen order, with the most severe result of each
/// (a rule's default level and score are its worst case).
#[derive(Default)]
struct RuleTable {
    index: HashMap<String, usize>,
    rules: Vec<Rule>,
}

struct Rule {
    id: String,
    name: &'static str,
    short: String,
    full: String,
    help: Vec<String>,
    help_uri: Option<String>,
    tags: Vec<String>,
    precision: &'static str,
    severity: Severity,
    score: Option<f64>,
}

impl RuleTable {
    fn vulnerability(&mut self, report: &ScanReport, v: &Vulnerability) -> usize {
        let i = self.claim(v.severity, cvss(v), || vulnerability_rule(report, v));
        // One vulnerability id can hit several packages with different fixes; the help
        // lists each, so the rule says what to upgrade for every result under it.
        let line = match &v.fixed_version {
            Some(fix) => format!("Upgrade {} to {fix} or later.", v.package),
            None => format!("No fixed version of {} is known yet.", v.package),
        };
        if let Some(rule) = self.rules.get_mut(i) {
            if !rule.help.contains(&line) {
                rule.help.push(line);
            }
        }
        i
    }

    fn check(&mut self, f: &CheckFinding, catalogue: &[RuleText<'_>]) -> usize {
        let text = catalogue.iter().find(|r| r.id == f.id).copied();
        self.claim(f.severity, None, || check_rule(f, text))
    }

    fn claim(
        &mut self,
        severity: Severity,
        score: Option<f64>,
        make: impl FnOnce() -> Rule,
    ) -> usize {
        let rule = make();
        if let Some(&i) = self.index.get(&rule.id) {
            if let Some(existing) = self.rules.get_mut(i) {
                existing.severity = existing.severity.max(severity);
                existing.score = match (existing.score, score) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
            return i;
        }
        let i = self.rules.len();
        self.index.insert(rule.id.clone(), i);
        self.rules.push(Rule {
            severity,
            score,
            ..rule
        });
        i
    }

    fn finish(self) -> Vec<Value> {
        self.rules.into_iter().map(Rule::into_json).collect()
    }
}

impl Rule {
    fn into_json(mut self) -> Value {
        self.tags.push(self.severity.name().to_owned());
        let mut properties = Map::new();
        properties.insert("tags".into(), json!(self.tags));
        properties.insert("precision".into(), json!(self.precision));
        if let Some(s) = security_severity(self.severity, self.score) {
            // GitHub reads a number written as a string.
            properties.insert("security-severity".into(), json!(format!("{s:.1}")));
        }
        let mut rule = json!({
            "id": self.id,
            "name": self.name,
            "shortDescription": {"text": self.short},
            "fullDescription": {"text": self.full},
            "help": {"text": self.help.join("\n")},
            "defaultConfiguration": {"level": level(self.severity)},
            "properties": properties,
        });
        if let (Some(uri), Some(obj)) = (self.help_uri, rule.as_object_mut()) {
            obj.insert("helpUri".into(), json!(uri));
        }
        rule
    }
}

fn cvss(v: &Vulnerability) -> Option<f64> {
    v.severity_source
        .starts_with("cvss")
        .then_some(v.cvss_score)
        .flatten()
}

fn vulnerability_rule(report: &ScanReport, v: &Vulnerability) -> Rule {
    let source = v.source_package.as_deref().unwrap_or(&v.package);
    let rating = match v.cvss_score {
        Some(s) => format!("{} ({}, {s:.1})", v.severity.name(), v.severity_source),
        None => format!("{} ({})", v.severity.name(), v.severity_source),
    };
    let name = package_of(&report.packages, v)
        .map_or(v.package.as_str(), |(_, p)| p.package.name.as_str());
    let mut full = format!(
        "{} affects the {name} package (source package {source}); severity {rating}.",
        v.id
    );
    if !v.aliases.is_empty() {
        full.push_str(&format!(" Also known as {}.", v.aliases.join(", ")));
    }
    Rule {
        id: v.id.clone(),
        name: "OsPackageVulnerability",
        short: format!("{} in {source}", v.id),
        full,
        help: Vec::new(),
        help_uri: osv_page(v),
        tags: vec!["vulnerability".into(), "security".into()],
        precision: "very-high",
        severity: v.severity,
        score: cvss(v),
    }
}

/// OSV's page for the advisory, when OSV is known to have it: the record came from the OSV
/// feed, or it is a CVE (OSV mirrors them all). Debian's TEMP ids have no page.
fn osv_page(v: &Vulnerability) -> Option<String> {
    let known = v.feeds.iter().any(|f| f == "osv") || v.id.starts_with("CVE-");
    known.then(|| format!("https://osv.dev/vulnerability/{}", uri_path(&v.id)))
}

fn check_rule(f: &CheckFinding, text: Option<RuleText<'_>>) -> Rule {
    let (title, description, remediation) = match text {
        Some(t) => (t.title, t.description, t.remediation),
        None => (
            f.title.as_str(),
            f.description.as_str(),
            f.remediation.as_str(),
        ),
    };
    let full = if description.is_empty() {
        title
    } else {
        description
    };
    let help = if remediation.is_empty() {
        full
    } else {
        remediation
    };
    Rule {
        id: f.id.clone(),
        name: category_name(&f.category),
        short: title.to_owned(),
        full: full.to_owned(),
        help: vec![help.to_owned()],
        help_uri: None,
        tags: vec!["security".into(), f.category.clone()],
        precision: "high",
        severity: f.severity,
        score: None,
    }
}

/// SARIF rule names are PascalCase by convention; GitHub shows them next to the id.
fn category_name(category: &str) -> &'static str {
    match category {
        "config" => "ImageConfiguration",
        "secret" => "ExposedSecret",
        "malware" => "Malware",
        "layer" => "HostileLayerEntry",
        _ => "ImageCheck",
    }
}

fn vulnerability_result(report: &ScanReport, v: &Vulnerability, rule: usize) -> Value {
    let fix = match &v.fixed_version {
        Some(fix) => format!("fixed in {fix}"),
        None => "no fix known".to_owned(),
    };
    let text = format!(
        "{} {} is affected by {} ({}); {fix}.",
        v.package,
        v.version,
        v.id,
        v.severity.name()
    );
    let location = match package_of(&report.packages, v) {
        Some((_, item)) => {
            let purl = Purl::for_package(&item.package, report.os.as_ref()).to_string();
            let package =
                json!({"name": item.package.name, "fullyQualifiedName": purl, "kind": "module"});
            file_location(&item.db_path, Some(package))
        }
        None => image_location(report),
    };
    let mut properties = Map::new();
    properties.insert("installedVersion".into(), json!(v.version));
    if let Some(fix) = &v.fixed_version {
        properties.insert("fixedVersion".into(), json!(fix));
    }
    if let Some(layer) = v.layer {
        properties.insert("layer".into(), json!(layer));
    }
    result(&v.id, rule, v.severity, text, location, properties)
}

fn check_result(report: &ScanReport, f: &CheckFinding, rule: usize) -> Value {
    let mut text = f.title.clone();
    if let Some(path) = &f.path {
        text.push_str(&format!(" ({path})"));
    }
    if let Some(evidence) = &f.evidence {
        text.push_str(&format!(": {evidence}"));
    }
    let location = match &f.path {
        Some(path) => file_location(path, None),
        None => image_location(report),
    };
    let mut properties = Map::new();
    properties.insert("category".into(), json!(f.category));
    if let Some(layer) = f.layer {
        properties.insert("layer".into(), json!(layer));
    }
    result(&f.id, rule, f.severity, text, location, properties)
}

fn result(
    id: &str,
    rule: usize,
    severity: Severity,
    text: String,
    location: Value,
    properties: Map<String, Value>,
) -> Value {
    json!({
        "ruleId": id,
        "ruleIndex": rule,
        "level": level(severity),
        "message": {"text": text},
        "locations": [location],
        "properties": properties,
    })
}

/// GitHub's mapping: errors fail a check, warnings and notes do not.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info | Severity::Unknown => "note",
    }
}

/// A path inside the image as a relative URI reference: relative so that a consumer
/// does not resolve it against the host it runs on.
fn file_location(path: &str, logical: Option<Value>) -> Value {
    let uri = uri_path(path.trim_start_matches('/'));
    let physical = json!({"artifactLocation": {"uri": uri}});
    match logical {
        Some(l) => json!({"physicalLocation": physical, "logicalLocations": [l]}),
        None => json!({"physicalLocation": physical}),
    }
}

/// Findings on the image as a whole (its configuration) have no file; the image is named.
fn image_location(report: &ScanReport) -> Value {
    json!({"logicalLocations": [{"name": report.image.reference, "kind": "resource"}]})
}

/// Percent-encodes what may not stand in a URI path: image paths can hold spaces, `#`,
/// `?` or `%`, and a colon in a relative reference's first segment would read as a scheme.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn run_properties(report: &ScanReport) -> Value {
    let mut p = Map::new();
    p.insert("imageReference".into(), json!(report.image.reference));
    if let Some(d) = &report.image.manifest_digest {
        p.insert("manifestDigest".into(), json!(d));
    }
    if let Some(os) = &report.os {
        p.insert("os".into(), json!(format!("{} {}", os.id, os.version_id)));
    }
    Value::Object(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_stay_relative_and_encoded() {
        assert_eq!(uri_path("etc/ssh/sshd_config"), "etc/ssh/sshd_config");
        assert_eq!(uri_path("a b/c#d?e%f:g"), "a%20b/c%23d%3Fe%25f%3Ag");
        assert_eq!(uri_path("é"), "%C3%A9");
    }

    #[test]
    fn levels_follow_github() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        for s in [Severity::Low, Severity::Info, Severity::Unknown] {
            assert_eq!(level(s), "note");
        }
    }
}
