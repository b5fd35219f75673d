//! The audit log's routes (docs/audit.md): the signed checkpoint and the log's verifier
//! key (public), entries and proofs (auditor or administrator). The client only fetches:
//! verifying is `ironroot_tlog`'s job, with a key the caller obtained and trusts.

use crate::error::decode;
use crate::{Client, ClientError};
use ironroot_api::{
    AuditEntries, ConsistencyProof, InclusionProof, AUDIT_CHECKPOINT_PATH, AUDIT_KEY_PATH,
};
use reqwest::Method;
use serde_json::Value;

/// The largest checkpoint or key answer read: a signed note is at most 64 KiB.
const NOTE_LIMIT: usize = 64 * 1024;

impl Client {
    /// `GET /.well-known/ironroot-log/checkpoint`: the latest signed checkpoint (a C2SP
    /// signed note), unverified.
    pub async fn audit_checkpoint(&self) -> Result<String, ClientError> {
        self.text(AUDIT_CHECKPOINT_PATH).await
    }

    /// `GET /.well-known/ironroot-log/key`: the log's note verifier key string. Fetched
    /// from the log itself, it is only as trustworthy as the connection: pin it.
    pub async fn audit_key(&self) -> Result<String, ClientError> {
        Ok(self.text(AUDIT_KEY_PATH).await?.trim_end().to_owned())
    }

    /// `GET /v1/audit/entries?start&end` (auditor or administrator): at most 1,000
    /// entries from `start`, oldest first.
    pub async fn audit_entries(
        &self,
        start: u64,
        end: Option<u64>,
    ) -> Result<AuditEntries, ClientError> {
        let path = match end {
            Some(end) => format!("/v1/audit/entries?start={start}&end={end}"),
            None => format!("/v1/audit/entries?start={start}"),
        };
        self.get(&path).await
    }

    /// `GET /v1/audit/proof/inclusion?index&size` (auditor or administrator).
    pub async fn audit_inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, ClientError> {
        self.get(&format!(
            "/v1/audit/proof/inclusion?index={index}&size={size}"
        ))
        .await
    }

    /// `GET /v1/audit/proof/consistency?from&to` (auditor or administrator).
    pub async fn audit_consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof, ClientError> {
        self.get(&format!("/v1/audit/proof/consistency?from={from}&to={to}"))
            .await
    }

    async fn text(&self, path: &str) -> Result<String, ClientError> {
        let (status, body) = self
            .send_raw(self.request(Method::GET, path), NOTE_LIMIT)
            .await?;
        if !(200..300).contains(&status) {
            return Err(match decode::<Value>(status, &body) {
                Err(e) => e,
                Ok(_) => ClientError::Status {
                    status: crate::HttpStatus(status),
                },
            });
        }
        String::from_utf8(body).map_err(|e| ClientError::Decode(e.to_string()))
    }
}
