//! The routes a node calls: enrollment without a client certificate, everything else
//! with the certificate enrollment issued (see [`Client::agent`]).

use super::path_segment;
use crate::{Client, ClientError};
use ironroot_api::{
    ActivateRequest, ActivateResponse, Challenge, EnrollChallenge, EnrollRequest, EvidenceRequest,
    EvidenceResponse, IssuedTag, ReleaseRequest, ReleaseResponse, RenewRequest,
};
use ironroot_crypto::JwkSet;

impl Client {
    /// `POST /v1/enroll`: the EK and AK; the service answers a credential challenge.
    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollChallenge, ClientError> {
        self.post("/v1/enroll", req).await
    }

    /// `POST /v1/enroll/{id}/activate`: the activated secret and a CSR; the service
    /// answers the client certificate.
    pub async fn activate(
        &self,
        enrollment_id: &str,
        req: &ActivateRequest,
    ) -> Result<ActivateResponse, ClientError> {
        let path = format!("/v1/enroll/{}/activate", path_segment(enrollment_id));
        self.post(&path, req).await
    }

    /// `POST /v1/agent/certificate`: a new client certificate for a new key.
    pub async fn renew_certificate(
        &self,
        req: &RenewRequest,
    ) -> Result<ActivateResponse, ClientError> {
        self.post("/v1/agent/certificate", req).await
    }

    /// `POST /v1/attest/challenge`: a fresh nonce and the PCRs to quote.
    pub async fn challenge(&self) -> Result<Challenge, ClientError> {
        self.post("/v1/attest/challenge", &serde_json::Map::new())
            .await
    }

    /// `POST /v1/attest/evidence`: the quote and logs; the service answers its verdict.
    pub async fn evidence(&self, req: &EvidenceRequest) -> Result<EvidenceResponse, ClientError> {
        self.post("/v1/attest/evidence", req).await
    }

    /// `GET /v1/agent/asset-tag`: the node's current asset-tag certificate.
    pub async fn asset_tag(&self) -> Result<IssuedTag, ClientError> {
        self.get("/v1/agent/asset-tag").await
    }

    /// `POST /v1/keys/{id}/release`: the key, wrapped to the node's TPM binding key.
    pub async fn release(
        &self,
        key_id: &str,
        req: &ReleaseRequest,
    ) -> Result<ReleaseResponse, ClientError> {
        self.post(&format!("/v1/keys/{}/release", path_segment(key_id)), req)
            .await
    }

    /// `GET /.well-known/jwks.json`: the keys trust reports are signed with.
    pub async fn report_jwks(&self) -> Result<JwkSet, ClientError> {
        self.get("/.well-known/jwks.json").await
    }

    /// `GET /.well-known/tag-jwks.json`: the key asset-tag certificates are signed with.
    pub async fn tag_jwks(&self) -> Result<JwkSet, ClientError> {
        self.get("/.well-known/tag-jwks.json").await
    }
}
