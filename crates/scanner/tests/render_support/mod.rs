//! What the render tests share: hand-built reports of a Debian, an Alpine and an
//! AlmaLinux image, and validators for the committed official JSON schemas.

use ironroot_pkgdb::{Ecosystem, Package};
use ironroot_scanner::{
    CheckFinding, DatabaseInfo, ImageInfo, InventoryItem, LayerSummary, OsRelease, RuleText,
    ScanReport, Severity, Vulnerability,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

pub const SERIAL: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const NAMESPACE: &str = "https://ironroot.example/spdx/3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const DIGEST: &str = "sha256:6d1ef012b5674ad8a127ecfa9b5e6f5178d171b90ee462846974177fd9bdd39f";

fn item(
    eco: Ecosystem,
    name: &str,
    version: &str,
    arch: Option<&str>,
    layer: usize,
) -> InventoryItem {
    let mut package = Package::new(eco, name, version);
    package.arch = arch.map(str::to_owned);
    let db_path = match eco {
        Ecosystem::Dpkg => "var/lib/dpkg/status",
        Ecosystem::Apk => "lib/apk/db/installed",
        _ => "var/lib/rpm/rpmdb.sqlite",
    };
    InventoryItem {
        package,
        layer,
        db_path: db_path.into(),
    }
}

fn vuln(
    id: &str,
    pkg: &InventoryItem,
    severity: Severity,
    basis: &str,
    score: Option<f64>,
    fix: Option<&str>,
) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        aliases: vec![format!("GHSA-{}", id.len())],
        package: pkg.package.name.clone(),
        version: pkg.package.version.clone(),
        source_package: None,
        fixed_version: fix.map(str::to_owned),
        severity,
        severity_source: basis.into(),
        cvss_score: score,
        distribution_rating: (basis == "distribution").then(|| "not yet assigned".into()),
        feeds: vec![if id.starts_with("TEMP-") {
            "debian-tracker"
        } else {
            "osv"
        }
        .into()],
        layer: Some(pkg.layer),
    }
}

fn finding(id: &str, category: &str, severity: Severity, path: Option<&str>) -> CheckFinding {
    CheckFinding {
        id: id.into(),
        category: category.into(),
        severity,
        title: format!("{id} title from the finding"),
        description: String::new(),
        remediation: format!("fix {id}"),
        path: path.map(str::to_owned),
        layer: path.map(|_| 1),
        evidence: (category == "secret").then(|| "AKIA************MPLE".into()),
    }
}

fn report(
    os: (&str, &str),
    packages: Vec<InventoryItem>,
    vulnerabilities: Vec<Vulnerability>,
) -> ScanReport {
    let layer = |index: usize| LayerSummary {
        index,
        digest: format!("sha256:{}", format!("{index}").repeat(64)),
        compressed_bytes: 10,
        bytes: 20,
        entries: 3,
        compression: "gzip".into(),
    };
    ScanReport {
        schema: ironroot_scanner::SCHEMA.into(),
        scanner_version: "0.1.0".into(),
        image: ImageInfo {
            reference: format!("registry.example/{}:latest", os.0),
            source: "registry".into(),
            manifest_digest: Some(DIGEST.into()),
            config_digest: Some(DIGEST.replace("6d1e", "7d1e")),
        },
        started_at: "2024-05-01T10:00:00Z".into(),
        finished_at: "2024-05-01T10:00:07.250Z".into(),
        database: Some(DatabaseInfo {
            built_at: "2024-04-30T00:00:00Z".into(),
            updated_at: "2024-05-01T09:00:00Z".into(),
            records: 42,
        }),
        os: Some(OsRelease {
            id: os.0.into(),
            version_id: os.1.into(),
            ..OsRelease::default()
        }),
        layers: vec![layer(0), layer(1)],
        packages,
        vulnerabilities,
        findings: vec![
            finding(
                "IR-CFG-SSH-001",
                "config",
                Severity::Medium,
                Some("/etc/ssh/sshd_config"),
            ),
            finding("IR-CFG-USER-ROOT", "config", Severity::High, None),
            finding(
                "aws-access-key-id",
                "secret",
                Severity::Critical,
                Some("app/config with space.env"),
            ),
            finding(
                "aws-access-key-id",
                "secret",
                Severity::Critical,
                Some("app/other:file#1.env"),
            ),
            finding(
                "IR-LAYER-SYMLINK",
                "layer",
                Severity::Info,
                Some("usr/lib/evil"),
            ),
        ],
        problems: Vec::new(),
        suppressed: Vec::new(),
    }
}

pub fn debian() -> ScanReport {
    let libc = item(Ecosystem::Dpkg, "libc6", "2.36-9+deb12u7", Some("amd64"), 0);
    let ssl = item(
        Ecosystem::Dpkg,
        "libssl3",
        "3.0.11-1~deb12u2",
        Some("amd64"),
        1,
    );
    let attr = item(Ecosystem::Dpkg, "attr", "1:2.4.47-2+b1", Some("amd64"), 0);
    let vulns = vec![
        vuln(
            "CVE-2024-2961",
            &libc,
            Severity::High,
            "cvss-v3",
            Some(7.3),
            Some("2.36-9+deb12u8"),
        ),
        vuln(
            "CVE-2023-5678",
            &ssl,
            Severity::Medium,
            "distribution",
            None,
            None,
        ),
        vuln(
            "TEMP-0000000-ABCDEF",
            &attr,
            Severity::Unknown,
            "unrated",
            None,
            None,
        ),
    ];
    report(("debian", "12"), vec![libc, ssl, attr], vulns)
}

pub fn alpine() -> ScanReport {
    let musl = item(Ecosystem::Apk, "musl", "1.2.5-r0", Some("x86_64"), 0);
    let busybox = item(Ecosystem::Apk, "busybox", "1.36.1-r29", Some("x86_64"), 0);
    // The same package listed twice (two databases) still gets two distinct identifiers.
    let mut again = busybox.clone();
    again.db_path = "lib/apk/db/installed.d/busybox".into();
    let vulns = vec![vuln(
        "CVE-2023-42366",
        &busybox,
        Severity::Critical,
        "cvss-v4",
        Some(9.3),
        Some("1.36.1-r30"),
    )];
    report(("alpine", "3.20.3"), vec![musl, busybox, again], vulns)
}

pub fn almalinux() -> ScanReport {
    let bash = item(Ecosystem::Rpm, "bash", "5.1.8-9.el9", Some("x86_64"), 0);
    let nm = item(
        Ecosystem::Rpm,
        "NetworkManager",
        "1:1.46.0-8.el9",
        Some("x86_64"),
        1,
    );
    let key = item(Ecosystem::Rpm, "gpg-pubkey", "b86b3716-61e69f29", None, 0);
    let vulns = vec![vuln(
        "CVE-2024-3661",
        &nm,
        Severity::Low,
        "cvss-v3",
        Some(3.3),
        Some("1:1.46.0-20.el9_5"),
    )];
    report(("almalinux", "9.4"), vec![bash, nm, key], vulns)
}

pub fn catalogue() -> Vec<RuleText<'static>> {
    vec![RuleText {
        id: "IR-CFG-SSH-001",
        title: "SSH permits root login",
        description: "sshd_config sets PermitRootLogin yes.",
        remediation: "Set PermitRootLogin no.",
    }]
}

/// Resolves `$ref`s to the committed schemas by their `$id`; anything else is an error,
/// so a test never reaches the network.
struct Committed(HashMap<String, Value>);

impl jsonschema::Retrieve for Committed {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("no committed schema for {uri}").into())
    }
}

fn schema(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/schemas", name]
        .iter()
        .collect();
    serde_json::from_str(&readable(&std::fs::read_to_string(&path).unwrap())).unwrap()
}

/// The SARIF schema's two `language` patterns end in a stray `]`, which ECMAScript's
/// lenient syntax reads as a literal and Rust's regex engines refuse, so the schema itself
/// fails its meta-schema here. Escaping that `]` keeps the patterns' ECMAScript meaning;
/// the committed file stays as published.
fn readable(text: &str) -> String {
    text.replace(r#"[a-zA-Z]{2}]?$""#, r#"[a-zA-Z]{2}\\]?$""#)
}

pub fn validator(name: &str) -> jsonschema::Validator {
    let mut by_id = HashMap::new();
    for referenced in ["spdx.schema.json", "jsf-0.82.schema.json"] {
        let s = schema(referenced);
        by_id.insert(s["$id"].as_str().unwrap().to_owned(), s);
    }
    jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(Committed(by_id))
        .build(&schema(name))
        .unwrap()
}

pub fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}
