//! The hub over HTTPS: the service's one client, made with the cluster's own certificate
//! (mutual TLS, the identity `POST /v1/clusters` issued), reading answers up to the
//! largest bundle.

use super::{Delivery, Hub, HubError};
use crate::webhook::BoxFuture;
use ironroot_api::{
    ComplianceReport, RemediationReport, SignedBundle, ViolationBatch, WorkloadBatch,
};
use ironroot_client::{Client, ClientError};
use ironroot_crypto::JwkSet;

/// The cluster's client of the hub at `server`, trusting `ca_pem` only.
pub fn cluster_client(
    server: &str,
    ca_pem: &[u8],
    cert_pem: &str,
    key_pem: &str,
) -> Result<Client, ClientError> {
    Ok(Client::agent(server, ca_pem, Some((cert_pem, key_pem)))?
        .with_response_limit(super::bundle::MAX_BUNDLE_BYTES))
}

fn err(e: ClientError) -> HubError {
    HubError(e.to_string())
}

impl Hub for Client {
    fn bundle(&self, have: Option<u64>) -> BoxFuture<'_, Result<Option<SignedBundle>, HubError>> {
        Box::pin(async move { self.policy_bundle(have).await.map_err(err) })
    }

    fn jwks(&self) -> BoxFuture<'_, Result<JwkSet, HubError>> {
        Box::pin(async move { self.report_jwks().await.map_err(err) })
    }

    fn report_compliance<'a>(
        &'a self,
        report: &'a ComplianceReport,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async move { Client::report_compliance(self, report).await.map_err(err) })
    }

    fn report_violations<'a>(
        &'a self,
        batch: &'a ViolationBatch,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async move { Client::report_violations(self, batch).await.map_err(err) })
    }

    fn report_remediation<'a>(
        &'a self,
        report: &'a RemediationReport,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async move {
            match Client::report_remediation(self, report).await {
                Ok(o) => Ok(Delivery::Taken {
                    recorded: o.recorded,
                }),
                // The hub read the report and refused it (a host bound elsewhere, a
                // malformed field): sending it again would be refused again. 401 and 403
                // are not here: a certificate being rotated heals.
                Err(e) if matches!(e.status().map(|s| s.0), Some(400 | 404 | 409 | 413 | 422)) => {
                    Ok(Delivery::Refused(e.to_string()))
                }
                Err(e) => Err(err(e)),
            }
        })
    }

    fn report_workloads<'a>(
        &'a self,
        batch: &'a WorkloadBatch,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async move {
            match Client::report_workloads(self, batch).await {
                Ok(_) => Ok(Delivery::Taken { recorded: true }),
                // A batch the hub read and refused would be refused again.
                Err(e) if matches!(e.status().map(|s| s.0), Some(400 | 413 | 422)) => {
                    Ok(Delivery::Refused(e.to_string()))
                }
                Err(e) => Err(err(e)),
            }
        })
    }
}
