//! The cosign vulnerability scan record (sigstore/cosign
//! `specs/COSIGN_VULN_ATTESTATION_SPEC.md`, and cosign's own Go type for it), and the
//! in-toto Statement that carries a predicate to be signed (`cosign attest --type vuln`).

use super::{echo, sha256_hex, utc_seconds, RenderError, TOOL_URI};
use crate::ScanReport;
use serde_json::{json, Value};

/// The predicate type cosign uses for `--type vuln`.
pub const COSIGN_VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// What ran the scan, for the predicate's `invocation` (a CI run, say). Every field may
/// be empty: the spec makes them optional and cosign writes empty strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// The command-line parameters, e.g. `["--format=json"]`.
    pub parameters: &'a [String],
    /// Where the run can be seen, e.g. a CI job's URL.
    pub uri: &'a str,
    pub event_id: &'a str,
    pub builder_id: &'a str,
}

/// The cosign vulnerability predicate for a report: the whole JSON report as the
/// scanner's `result`, the database's build time as its version, and the scan's start and
/// end (which cosign parses as RFC 3339 times, so they must be).
pub fn cosign_vuln(report: &ScanReport, invocation: &Invocation<'_>) -> Result<Value, RenderError> {
    let started = utc_seconds(&report.started_at)?;
    let finished = utc_seconds(&report.finished_at)?;
    let result = serde_json::to_value(report).map_err(|e| RenderError::Report(e.to_string()))?;
    // No public URI names the database; an empty one is what the spec's own example and
    // cosign write when there is nothing to say, rather than an invented address.
    let db_version = report.database.as_ref().map_or("", |d| d.built_at.as_str());
    Ok(json!({
        "invocation": {
            "parameters": invocation.parameters,
            "uri": invocation.uri,
            "event_id": invocation.event_id,
            "builder.id": invocation.builder_id,
        },
        "scanner": {
            "uri": format!("{TOOL_URI}@{}", report.scanner_version),
            "version": report.scanner_version,
            "db": {"uri": "", "version": db_version},
            "result": result,
        },
        "metadata": {
            "scanStartedOn": started,
            "scanFinishedOn": finished,
        },
    }))
}

/// An in-toto Statement v1 about one subject (an image, named by its repository and
/// identified by its manifest digest). The digest is `sha256:<hex>` or bare hex; in-toto
/// wants the hex under the algorithm's name.
pub fn in_toto_statement(
    subject_name: &str,
    subject_digest: &str,
    predicate_type: &str,
    predicate: Value,
) -> Result<Value, RenderError> {
    let hex =
        sha256_hex(subject_digest).ok_or_else(|| RenderError::Digest(echo(subject_digest)))?;
    Ok(json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
}
