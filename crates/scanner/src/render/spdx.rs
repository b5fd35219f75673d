//! SPDX 2.3 JSON: the document describes the image, the image contains every installed
//! package. Licences are not read from the image, so every licence field says
//! `NOASSERTION` (SPDX's "not determined"), never a guess.

use super::{echo, sha256_hex, utc_seconds, Purl, RenderError, UniqueIds, TOOL_NAME};
use crate::{InventoryItem, ScanReport};
use ironroot_pkgdb::Ecosystem;
use serde_json::{json, Map, Value};

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";

/// The report as an SPDX 2.3 document. `namespace` is the document's unique absolute URI
/// (SPDX: no `#`), which the caller picks, typically a base URL and a UUID.
pub fn spdx(report: &ScanReport, namespace: &str) -> Result<Value, RenderError> {
    let namespace = document_namespace(namespace)?;
    let created = utc_seconds(&report.finished_at)?;
    let mut ids = UniqueIds::default();
    ids.claim(IMAGE_ID.to_owned());
    let mut packages = vec![image(report)];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];
    for item in &report.packages {
        let id = ids.claim(spdx_id(item));
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &id));
        packages.push(package(report, item, &id));
    }
    Ok(json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": report.image.reference,
        "documentNamespace": namespace,
        "creationInfo": {
            "creators": [format!("Tool: {TOOL_NAME}-{}", report.scanner_version)],
            "created": created,
        },
        "packages": packages,
        "relationships": relationships,
    }))
}

/// An absolute URI (a scheme, then something) with no fragment and no whitespace: SPDX
/// elements are referenced as `namespace#SPDXRef-...`, so a `#` inside would be ambiguous.
fn document_namespace(s: &str) -> Result<String, RenderError> {
    let err = || RenderError::DocumentNamespace(echo(s));
    let (scheme, rest) = s.split_once(':').ok_or_else(err)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let rest_ok = !rest.is_empty() && !rest.contains('#') && !rest.chars().any(char::is_whitespace);
    if !scheme_ok || !rest_ok {
        return Err(err());
    }
    Ok(s.to_owned())
}

/// `SPDXRef-Package-deb-libc6-2.36-9-deb12u7-amd64`: SPDX ids allow only letters, digits,
/// `.` and `-`, so anything else becomes `-`; `UniqueIds` separates names that then merge.
fn spdx_id(item: &InventoryItem) -> String {
    let p = &item.package;
    let eco = match p.ecosystem {
        Ecosystem::Dpkg => "deb",
        Ecosystem::Apk => "apk",
        Ecosystem::Rpm => "rpm",
        _ => "pkg",
    };
    let arch = p.arch.as_deref().unwrap_or("noarch");
    let raw = format!("{eco}-{}-{}-{arch}", p.name, p.version);
    let safe: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-Package-{safe}")
}

fn image(report: &ScanReport) -> Value {
    let mut p = base_package(IMAGE_ID, &report.image.reference);
    let digest = report.image.manifest_digest.as_deref();
    if let Some(d) = digest {
        p.insert("versionInfo".into(), json!(d));
    }
    if let Some(hex) = digest.and_then(sha256_hex) {
        p.insert(
            "checksums".into(),
            json!([{"algorithm": "SHA256", "checksumValue": hex}]),
        );
    }
    p.insert("primaryPackagePurpose".into(), json!("CONTAINER"));
    Value::Object(p)
}

fn package(report: &ScanReport, item: &InventoryItem, id: &str) -> Value {
    let pkg = &item.package;
    let purl = Purl::for_package(pkg, report.os.as_ref()).to_string();
    let mut p = base_package(id, &pkg.name);
    p.insert("versionInfo".into(), json!(pkg.version));
    p.insert(
        "externalRefs".into(),
        json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl,
        }]),
    );
    if pkg.source_name.is_some() || pkg.source_version.is_some() {
        let name = pkg.source_name_or_name();
        let version = pkg.source_version_or_version();
        p.insert(
            "sourceInfo".into(),
            json!(format!("built package from: {name} {version}")),
        );
    }
    p.insert(
        "comment".into(),
        json!(format!(
            "installed by layer {}; listed in {}",
            item.layer, item.db_path
        )),
    );
    Value::Object(p)
}

/// The fields every SPDX package here has: no files were analysed and nothing about
/// licences, copyright or download location was determined.
fn base_package(id: &str, name: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("SPDXID".into(), json!(id));
    p.insert("name".into(), json!(name));
    p.insert("downloadLocation".into(), json!(NOASSERTION));
    p.insert("filesAnalyzed".into(), json!(false));
    p.insert("licenseConcluded".into(), json!(NOASSERTION));
    p.insert("licenseDeclared".into(), json!(NOASSERTION));
    p.insert("copyrightText".into(), json!(NOASSERTION));
    p
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({"spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_must_be_absolute_and_fragment_free() {
        assert!(document_namespace("https://ironroot.example/spdx/img-3fa85f64").is_ok());
        assert!(document_namespace("urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6").is_ok());
        for bad in [
            "",
            "img",
            "://x",
            "1http://x",
            "https://x/#frag",
            "https://x/a b",
            "https:",
        ] {
            assert!(document_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spdx_ids_only_hold_permitted_characters() {
        let mut p =
            ironroot_pkgdb::Package::new(Ecosystem::Dpkg, "libstdc++6", "1:12.2.0-14+deb12u1");
        p.arch = Some("amd64".into());
        let item = InventoryItem {
            package: p,
            layer: 0,
            db_path: "var/lib/dpkg/status".into(),
        };
        assert_eq!(
            spdx_id(&item),
            "SPDXRef-Package-deb-libstdc--6-1-12.2.0-14-deb12u1-amd64"
        );
    }
}
