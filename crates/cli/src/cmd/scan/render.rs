//! The report in the format asked for (`--format`): the table here, the rest from
//! `ironroot_scanner::render`.

use super::{table, Format};
use anyhow::Context;
use ironroot_scanner::ScanReport;

pub fn render(report: &ScanReport, format: Format) -> anyhow::Result<String> {
    use ironroot_scanner::render;
    let id = uuid::Uuid::new_v4().to_string();
    let value = match format {
        Format::Table => return Ok(table::render(report)),
        Format::Json => serde_json::to_value(report)?,
        Format::Sarif => render::sarif(report, &ironroot_scanner::checks::rule_texts()),
        Format::Cyclonedx => render::cyclonedx(report, &id)?,
        Format::Spdx => {
            let name: String = report
                .image
                .reference
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-._".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            render::spdx(
                report,
                &format!("https://ironroot.invalid/spdxdocs/{name}-{id}"),
            )?
        }
        Format::CosignVuln => {
            let predicate = render::cosign_vuln(report, &render::Invocation::default())?;
            let digest = report.image.manifest_digest.as_deref().with_context(|| {
                "an attestation names the image by its manifest digest, which this source has none of"
            })?;
            render::in_toto_statement(
                &report.image.reference,
                digest,
                render::COSIGN_VULN_PREDICATE_TYPE,
                predicate,
            )?
        }
    };
    Ok(serde_json::to_string_pretty(&value)?)
}
