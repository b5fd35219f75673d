//! Messages between a trust agent and the attestation service.

use crate::B64;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::PcrValues;
use serde::{Deserialize, Serialize};

/// Step 1 of enrollment: the agent presents its TPM identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub hostname: String,
    /// A stable hardware identifier (on real hosts the SMBIOS UUID).
    pub hardware_uuid: String,
    /// TPM2B_PUBLIC of the endorsement key.
    pub ek_public: B64,
    /// DER X.509 EK certificate from the TPM's NV, when it holds one.
    pub ek_certificate: Option<B64>,
    /// TPM2B_PUBLIC of the attestation key.
    pub ak_public: B64,
}

/// The credential challenge: only the TPM holding both the EK and the AK can open it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollChallenge {
    pub enrollment_id: String,
    /// TPM2B_ID_OBJECT from TPM2_MakeCredential.
    pub id_object: B64,
    /// TPM2B_ENCRYPTED_SECRET from TPM2_MakeCredential.
    pub encrypted_secret: B64,
    pub expires_at: u64,
}

/// Step 2: the agent returns the activated secret and a CSR for its mTLS identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    pub secret: B64,
    /// PEM PKCS#10 request for the agent's client certificate.
    pub csr_pem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivateResponse {
    pub host_id: String,
    pub client_certificate_pem: String,
    /// When the client certificate stops being accepted (Unix seconds); the agent renews
    /// it before then at `POST /v1/agent/certificate`.
    pub client_certificate_expires_at: u64,
    pub ca_certificate_pem: String,
}

/// A renewal of the agent's client certificate, over mTLS with the current one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// PEM PKCS#10 request for the new certificate (a new key).
    pub csr_pem: String,
}

/// A PCR bank and the PCR indices to quote from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcrSelection {
    pub bank: HashAlg,
    pub pcrs: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Fresh, single-use nonce to put in the quote's qualifying data.
    pub nonce: B64,
    pub expires_at: u64,
    pub selection: Vec<PcrSelection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequest {
    pub nonce: B64,
    /// Marshalled TPMS_ATTEST.
    pub attest: B64,
    /// Marshalled TPMT_SIGNATURE.
    pub signature: B64,
    /// The PCR values the quote covers.
    pub pcrs: PcrValues,
    /// TCG binary event log (binary_bios_measurements), when the node has one.
    pub event_log: Option<B64>,
    /// IMA measurement list (ascii or binary), when the node has one.
    pub ima_log: Option<B64>,
    /// The asset-tag digest read from the TPM's NV index, when provisioned. The quote's
    /// qualifying data is then SHA-256(nonce || asset_tag) instead of the nonce.
    #[serde(default)]
    pub asset_tag: Option<B64>,
    /// What the node's kubelet is configured with, when the node has a kubelet (absent
    /// from agents older than the field, and on hosts without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletFacts>,
}

/// The node's kubelet configuration, as the agent read it from the kubelet's config file
/// (`KubeletConfiguration`). The quote does not cover it and the node's root writes that
/// file: a conformance fact for policies (`node-pid-limit`), never a trust fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletFacts {
    /// `podPidsLimit`: the most pids a pod may have (-1 or 0: unlimited). The file's
    /// value, or the kubelet's default (-1) when the file leaves it out; `None`: not known.
    #[serde(default)]
    pub pod_pids_limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceResponse {
    pub trusted: bool,
    pub report_id: String,
    /// The trust report as a compact JWS signed by the service (see `/.well-known/jwks.json`).
    pub report_jws: String,
    /// When the agent should attest again, in seconds.
    pub next_attestation_in: u64,
    /// Hex SHA-256 of the host's current asset-tag certificate, when it has one. An
    /// agent whose TPM holds another digest (or none) fetches `GET /v1/agent/asset-tag`,
    /// provisions it (NV index `ASSET_TAG_NV_INDEX`) and attests again.
    #[serde(default)]
    pub asset_tag: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn evidence(kubelet: Option<KubeletFacts>) -> EvidenceRequest {
        EvidenceRequest {
            nonce: B64(vec![1]),
            attest: B64(vec![2]),
            signature: B64(vec![3]),
            pcrs: PcrValues::default(),
            event_log: None,
            ima_log: None,
            asset_tag: None,
            kubelet,
        }
    }

    #[test]
    fn evidence_without_kubelet_facts_reads_and_writes_as_before_the_field() {
        let json = serde_json::to_value(evidence(None)).unwrap();
        assert!(json.get("kubelet").is_none(), "{json}");
        let back: EvidenceRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back.kubelet, None);
    }

    #[test]
    fn kubelet_facts_travel_with_the_evidence() {
        let facts = KubeletFacts {
            pod_pids_limit: Some(4096),
        };
        let json = serde_json::to_value(evidence(Some(facts.clone()))).unwrap();
        assert_eq!(json["kubelet"]["pod_pids_limit"], 4096);
        let back: EvidenceRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back.kubelet, Some(facts));
        let unknown = serde_json::json!({ "pod_pids_limit": 1, "other": 2 });
        assert!(serde_json::from_value::<KubeletFacts>(unknown).is_err());
    }
}
