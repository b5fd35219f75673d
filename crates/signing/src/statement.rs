//! The in-toto Statement (v0.1 or v1) as ironroot reads it: its predicate type, its
//! subjects' sha256 digests and its predicate, and whether an image is among the subjects.
//! Signing and verifying share these checks, so that a statement about one image is never
//! attached to, or accepted for, another.

use crate::dsse::MAX_ENVELOPE_LEN;
use crate::identity::PinnedImage;
use serde_json::Value;

/// The largest statement signed: the envelope's base64 grows it by a third, and the
/// envelope must stay within what is read back.
pub const MAX_STATEMENT_LEN: u64 = (MAX_ENVELOPE_LEN as u64 / 4) * 3 - 4096;

/// Why bytes are not an in-toto Statement ironroot accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("_type {0:?} is not an in-toto Statement")]
    NotAStatement(String),
    #[error("no predicateType")]
    NoPredicateType,
    #[error("no subject")]
    NoSubject,
    #[error("a subject has no sha256 digest")]
    SubjectWithoutSha256,
}

/// What ironroot reads from an in-toto Statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub predicate_type: String,
    /// The subjects' sha256 digests, lowercase hex.
    pub subject_sha256: Vec<String>,
    pub predicate: Value,
}

impl Statement {
    pub fn parse(bytes: &[u8]) -> Result<Statement, StatementError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| StatementError::NotJson(e.to_string()))?;
        let kind = v["_type"].as_str().unwrap_or_default();
        if !kind.starts_with("https://in-toto.io/Statement/") {
            return Err(StatementError::NotAStatement(kind.to_owned()));
        }
        let predicate_type = match v["predicateType"].as_str() {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => return Err(StatementError::NoPredicateType),
        };
        let subjects = v["subject"].as_array().cloned().unwrap_or_default();
        if subjects.is_empty() {
            return Err(StatementError::NoSubject);
        }
        let mut subject_sha256 = Vec::new();
        for s in &subjects {
            match s["digest"]["sha256"].as_str() {
                Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    subject_sha256.push(h.to_ascii_lowercase());
                }
                _ => return Err(StatementError::SubjectWithoutSha256),
            }
        }
        Ok(Statement {
            predicate_type,
            subject_sha256,
            predicate: v["predicate"].clone(),
        })
    }

    /// Whether the image is one of the statement's subjects.
    pub fn is_about(&self, image: &PinnedImage) -> bool {
        self.subject_sha256.contains(&image.digest_hex())
    }

    /// The subjects that are not the image, as `sha256:<hex>`: a statement is signed only
    /// when this is empty.
    pub fn other_subjects(&self, image: &PinnedImage) -> Vec<String> {
        let hex = image.digest_hex();
        self.subject_sha256
            .iter()
            .filter(|s| **s != hex)
            .map(|s| format!("sha256:{s}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn statement(subjects: &[&str]) -> Vec<u8> {
        let subject: Vec<Value> = subjects
            .iter()
            .map(|h| serde_json::json!({"name": "x", "digest": {"sha256": h}}))
            .collect();
        serde_json::to_vec(
            &serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
            "predicateType": "p", "subject": subject, "predicate": {"a": 1}}),
        )
        .unwrap()
    }

    #[test]
    fn a_statement_is_about_its_subjects() {
        let image = PinnedImage::parse(&format!("r.example/app@sha256:{HEX}")).unwrap();
        let s = Statement::parse(&statement(&[&HEX.to_uppercase()])).unwrap();
        assert!(s.is_about(&image));
        assert!(s.other_subjects(&image).is_empty());
        let other = "f".repeat(64);
        let s = Statement::parse(&statement(&[HEX, &other])).unwrap();
        assert!(s.is_about(&image));
        assert_eq!(s.other_subjects(&image), vec![format!("sha256:{other}")]);
    }

    #[test]
    fn what_is_not_a_statement_is_refused_with_its_reason() {
        let cases: [(&[u8], StatementError); 4] = [
            (
                br#"{"_type": "x"}"#,
                StatementError::NotAStatement("x".into()),
            ),
            (
                br#"{"_type": "https://in-toto.io/Statement/v1", "subject": []}"#,
                StatementError::NoPredicateType,
            ),
            (
                br#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p"}"#,
                StatementError::NoSubject,
            ),
            (
                br#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "p",
                     "subject": [{"digest": {"sha512": "00"}}]}"#,
                StatementError::SubjectWithoutSha256,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(Statement::parse(bytes).unwrap_err(), want);
        }
        assert!(matches!(
            Statement::parse(b"{"),
            Err(StatementError::NotJson(_))
        ));
    }
}
