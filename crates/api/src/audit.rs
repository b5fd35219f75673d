//! The audit trail's transparency log on the wire (docs/audit.md): its entries, the
//! canonical bytes a leaf hashes, and inclusion and consistency proofs.
//!
//! Routes:
//! * public: `GET /.well-known/ironroot-log/checkpoint` (text/plain, the signed note),
//!   `GET /.well-known/ironroot-log/key` (text/plain, the note verifier key).
//! * auditor or administrator: `GET /v1/audit/entries?start&end` ([`AuditEntries`], at
//!   most [`MAX_AUDIT_PAGE`] entries), `GET /v1/audit/proof/inclusion?index&size`
//!   ([`InclusionProof`]), `GET /v1/audit/proof/consistency?from&to`
//!   ([`ConsistencyProof`]).
//!
//! [`AuditEntry::leaf_data`] is the one definition of what a leaf hashes, shared by the
//! service that appends and every verifier, so the two cannot disagree.

use crate::B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most entries one `GET /v1/audit/entries` returns.
pub const MAX_AUDIT_PAGE: u64 = 1000;
/// Where the latest signed checkpoint is published.
pub const AUDIT_CHECKPOINT_PATH: &str = "/.well-known/ironroot-log/checkpoint";
/// Where the log's note verifier key is published.
pub const AUDIT_KEY_PATH: &str = "/.well-known/ironroot-log/key";
/// The deepest nesting of an entry's body that [`canonical_json`] accepts.
const MAX_DEPTH: usize = 16;

/// One log entry: what happened (`kind`), who did it (`actor`), to what (`subject`), and
/// the digests and identifiers that prove it (`body`), never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// The leaf's position in the log, from 0.
    pub index: u64,
    /// When it was recorded (unix seconds).
    pub at: u64,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub body: Value,
}

impl AuditEntry {
    /// The leaf data: the canonical JSON of the object
    /// `{"actor","at","body","index","kind","subject"}` (see [`canonical_json`]). The
    /// leaf hash is `SHA-256(0x00 || leaf_data)`.
    pub fn leaf_data(&self) -> Result<Vec<u8>, CanonicalError> {
        let object = serde_json::json!({
            "actor": self.actor,
            "at": self.at,
            "body": self.body,
            "index": self.index,
            "kind": self.kind,
            "subject": self.subject,
        });
        Ok(canonical_json(&object)?.into_bytes())
    }
}

/// A value the canonical form does not cover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    #[error("audit entries hold integers only; {0} is not one")]
    NotAnInteger(String),
    #[error("an audit entry's body is nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// The JSON Canonicalization Scheme (RFC 8785) for the values audit entries hold: no
/// whitespace, object members sorted by their names' UTF-16 code units, strings escaped
/// as RFC 8785 §3.2.2.2 says (which is what serde_json writes), and numbers limited to
/// integers (whose JCS form is their plain decimal form). Written out here rather than
/// relying on serde_json's map order, which a dependency's `preserve_order` feature
/// changes.
pub fn canonical_json(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_canonical(value, &mut out, 0)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String, depth: usize) -> Result<(), CanonicalError> {
    if depth > MAX_DEPTH {
        return Err(CanonicalError::TooDeep);
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Value::Number(n) => return Err(CanonicalError::NotAnInteger(n.to_string())),
        Value::String(s) => push_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_string(name, out);
                out.push(':');
                write_canonical(item, out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn push_string(s: &str, out: &mut String) {
    // serde_json escapes `"`, `\` and control characters only, with the short forms
    // \b \f \n \r \t and lowercase \u00xx otherwise: exactly RFC 8785's rule.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// `GET /v1/audit/entries?start&end`: entries `start..end` (at most [`MAX_AUDIT_PAGE`],
/// fewer when the log ends first), oldest first, and the log's size when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntries {
    pub entries: Vec<AuditEntry>,
    pub size: u64,
    /// Set when the page holds only the entries of this organisation (its auditor's
    /// view): the range then has gaps, and nothing proves that none of its entries was
    /// left out, only that each one shown is in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// `GET /v1/audit/proof/inclusion?index&size`: RFC 9162 §2.1.3.1's PATH, bottom-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub hashes: Vec<B64>,
}

/// `GET /v1/audit/proof/consistency?from&to`: RFC 9162 §2.1.4.1's PROOF, bottom-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<B64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_members_and_has_no_whitespace() {
        let v = serde_json::json!({"b": [1, true, null], "a": {"y": "\n\"é", "x": -2}});
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"a":{"x":-2,"y":"\n\"é"},"b":[1,true,null]}"#
        );
    }

    #[test]
    fn canonical_json_sorts_by_utf16_code_units() {
        // RFC 8785 §3.2.3: U+E000 sorts after U+1F600 in UTF-16 (a surrogate pair).
        let v = serde_json::json!({"\u{e000}": 1, "\u{1f600}": 2});
        assert_eq!(
            canonical_json(&v).unwrap(),
            "{\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn canonical_json_refuses_fractions_and_deep_nesting() {
        assert!(matches!(
            canonical_json(&serde_json::json!({"a": 1.5})),
            Err(CanonicalError::NotAnInteger(_))
        ));
        let mut deep = serde_json::json!(1);
        for _ in 0..=MAX_DEPTH {
            deep = serde_json::json!([deep]);
        }
        assert_eq!(canonical_json(&deep), Err(CanonicalError::TooDeep));
    }

    #[test]
    fn leaf_data_binds_every_field() {
        let e = AuditEntry {
            index: 7,
            at: 1_700_000_000,
            kind: "trust.decision".into(),
            actor: "service".into(),
            subject: "host/h1".into(),
            body: serde_json::json!({"report_id": "r1"}),
        };
        assert_eq!(
            String::from_utf8(e.leaf_data().unwrap()).unwrap(),
            r#"{"actor":"service","at":1700000000,"body":{"report_id":"r1"},"index":7,"kind":"trust.decision","subject":"host/h1"}"#
        );
    }
}
