//! CycloneDX 1.5 JSON: the image as the BOM's subject (a `container` component), every
//! installed package as a `library` component with its purl and layer, and the matched
//! vulnerabilities pointing at those components.

use super::{echo, package_of, sha256_hex, utc_seconds, Purl, RenderError, UniqueIds, TOOL_NAME};
use crate::{ScanReport, Severity, Vulnerability};
use serde_json::{json, Map, Value};

const SCHEMA_URI: &str = "http://cyclonedx.org/schema/bom-1.5.schema.json";
const IMAGE_REF: &str = "ironroot:image";

/// The report as a CycloneDX 1.5 BOM. `serial` is a UUID the caller drew for this BOM
/// (with or without `urn:uuid:`); the timestamp is the scan's end.
pub fn cyclonedx(report: &ScanReport, serial: &str) -> Result<Value, RenderError> {
    let serial = serial_number(serial)?;
    let timestamp = utc_seconds(&report.finished_at)?;
    let mut ids = UniqueIds::default();
    ids.claim(IMAGE_REF.to_owned());
    let refs: Vec<String> = report
        .packages
        .iter()
        .map(|p| ids.claim(Purl::for_package(&p.package, report.os.as_ref()).to_string()))
        .collect();
    let components: Vec<Value> = report
        .packages
        .iter()
        .zip(&refs)
        .map(|(p, bom_ref)| component(report, p, bom_ref))
        .collect();
    let vulnerabilities: Vec<Value> = report
        .vulnerabilities
        .iter()
        .map(|v| vulnerability(report, v, &refs))
        .collect();
    Ok(json!({
        "$schema": SCHEMA_URI,
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{
                "type": "application",
                "name": TOOL_NAME,
                "version": report.scanner_version,
            }]},
            "component": image(report),
        },
        "components": components,
        "dependencies": [{"ref": IMAGE_REF, "dependsOn": refs}],
        "vulnerabilities": vulnerabilities,
    }))
}

/// `urn:uuid:` and a UUID in the lowercase form the schema's pattern requires.
fn serial_number(s: &str) -> Result<String, RenderError> {
    let uuid = s
        .strip_prefix("urn:uuid:")
        .unwrap_or(s)
        .to_ascii_lowercase();
    let groups: Vec<&str> = uuid.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    let hex_ok = groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if !lengths_ok || !hex_ok {
        return Err(RenderError::SerialNumber(echo(s)));
    }
    Ok(format!("urn:uuid:{uuid}"))
}

fn image(report: &ScanReport) -> Value {
    let mut c = Map::new();
    c.insert("bom-ref".into(), json!(IMAGE_REF));
    c.insert("type".into(), json!("container"));
    c.insert("name".into(), json!(report.image.reference));
    let digest = report.image.manifest_digest.as_deref();
    if let Some(d) = digest {
        c.insert("version".into(), json!(d));
    }
    if let Some(hex) = digest.and_then(sha256_hex) {
        c.insert("hashes".into(), json!([{"alg": "SHA-256", "content": hex}]));
    }
    let mut props = vec![property("ironroot:image:source", &report.image.source)];
    if let Some(d) = &report.image.config_digest {
        props.push(property("ironroot:image:config-digest", d));
    }
    c.insert("properties".into(), Value::Array(props));
    Value::Object(c)
}

fn component(report: &ScanReport, item: &crate::InventoryItem, bom_ref: &str) -> Value {
    let p = &item.package;
    let mut props = vec![property("ironroot:layer", &item.layer.to_string())];
    if let Some(layer) = report.layers.iter().find(|l| l.index == item.layer) {
        props.push(property("ironroot:layer:digest", &layer.digest));
    }
    props.push(property("ironroot:package:database", &item.db_path));
    if let Some(src) = &p.source_name {
        props.push(property("ironroot:package:source-name", src));
    }
    if let Some(src) = &p.source_version {
        props.push(property("ironroot:package:source-version", src));
    }
    json!({
        "bom-ref": bom_ref,
        "type": "library",
        "name": p.name,
        "version": p.version,
        "purl": Purl::for_package(p, report.os.as_ref()).to_string(),
        "properties": props,
    })
}

fn vulnerability(report: &ScanReport, v: &Vulnerability, refs: &[String]) -> Value {
    let affected = package_of(&report.packages, v).and_then(|(i, _)| refs.get(i));
    let source = v.feeds.first().map_or("ironroot", String::as_str);
    let mut out = Map::new();
    out.insert("id".into(), json!(v.id));
    out.insert("source".into(), json!({"name": source}));
    out.insert("ratings".into(), json!([rating(v, source)]));
    if let Some(fix) = &v.fixed_version {
        out.insert("recommendation".into(), json!(format!("Upgrade to {fix}")));
    }
    // A vulnerability always names what it affects: the package when the inventory has
    // it (it always should), the image otherwise, never nothing.
    out.insert(
        "affects".into(),
        json!([{
            "ref": affected.map_or(IMAGE_REF, String::as_str),
            "versions": [{"version": v.version, "status": "affected"}],
        }]),
    );
    let mut props: Vec<Value> = v
        .aliases
        .iter()
        .map(|a| property("ironroot:alias", a))
        .collect();
    props.extend(v.feeds.iter().map(|f| property("ironroot:feed", f)));
    if !props.is_empty() {
        out.insert("properties".into(), Value::Array(props));
    }
    Value::Object(out)
}

/// CVSS-based ratings carry the score and method; a distribution's rating has no score
/// and no standard method, so it is `other`; an unrated finding says `unknown`.
fn rating(v: &Vulnerability, source: &str) -> Value {
    let severity = severity(v.severity);
    let method = match v.severity_source.as_str() {
        "cvss-v4" => "CVSSv4",
        "cvss-v3" => "CVSSv31",
        "distribution" => "other",
        _ => return json!({"source": {"name": source}, "severity": severity}),
    };
    let mut r = Map::new();
    r.insert("source".into(), json!({"name": source}));
    if let Some(score) = v
        .cvss_score
        .filter(|s| s.is_finite() && method.starts_with("CVSS"))
    {
        r.insert("score".into(), json!(score));
    }
    r.insert("severity".into(), json!(severity));
    r.insert("method".into(), json!(method));
    Value::Object(r)
}

/// CycloneDX's severity names are the report's, `info` and `unknown` included.
fn severity(s: Severity) -> &'static str {
    s.name()
}

fn property(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn serial_numbers_are_lowercase_urns() {
        let s = serial_number("3FA85F64-5717-4562-B3FC-2C963F66AFA6").unwrap();
        assert_eq!(s, "urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6");
        assert_eq!(serial_number(&s).unwrap(), s);
        for bad in [
            "",
            "3fa85f64-5717-4562-b3fc",
            "3fa85f64571745622b3fc2c963f66afa6",
            "3fa85f64-5717-4562-b3fc-2c963f66afaZ",
            "urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6-0",
        ] {
            assert!(serial_number(bad).is_err(), "{bad:?}");
        }
    }
}
