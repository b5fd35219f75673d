//! The cluster side of the policy hub (docs/kubernetes.md, "Clusters"): the controller
//! pulls its cluster's signed policy bundle, verifies it before anything uses it and keeps
//! the last good one on disk; drains the webhook's violations to the hub; audits the
//! pods already running and reports compliance per policy to the hub and, bounded, as one
//! `wgpolicyk8s.io` PolicyReport per namespace; and installs the built-ins that need no
//! outside data as ValidatingAdmissionPolicies, so they hold while the webhook is down.
//!
//! It never trusts the hub's bytes before their signature, cluster and version were
//! checked, never blocks the webhook (violations go through a bounded queue), and never
//! writes one object per pod into etcd.

pub mod audit;
pub mod audit_loop;
pub mod bundle;
pub mod client;
pub mod cluster;
#[cfg(test)]
mod fake;
pub mod identity;
pub mod policy_report;
pub mod probe;
pub mod puller;
pub mod renewal;
pub mod reporter;
pub mod setup;
pub mod store;
pub mod vap;
pub mod vap_apply;
pub mod vap_registry;
pub mod workloads;
#[cfg(test)]
mod workloads_tests;

use crate::webhook::BoxFuture;
use ironroot_api::{
    ComplianceReport, RemediationReport, SignedBundle, ViolationBatch, WorkloadBatch,
};
use ironroot_crypto::JwkSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// The field manager of everything the hub part writes with server-side apply.
pub const FIELD_MANAGER: &str = "ironroot-controller";
/// The label on every object it creates, so that it removes only its own.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "ironroot-controller");

/// The hub failed to answer (its message; the transport's detail stays in the log).
#[derive(Debug, thiserror::Error)]
#[error("the hub: {0}")]
pub struct HubError(pub String);

/// The hub as the cluster sees it: the routes a cluster's certificate may call. The
/// service's client in production ([`ironroot_client::Client`]), a fake in tests.
pub trait Hub: Send + Sync + 'static {
    /// `GET /v1/cluster/bundle`; `None` when the hub still holds version `have`.
    fn bundle(&self, have: Option<u64>) -> BoxFuture<'_, Result<Option<SignedBundle>, HubError>>;
    /// `GET /.well-known/jwks.json`: the keys bundles are signed with.
    fn jwks(&self) -> BoxFuture<'_, Result<JwkSet, HubError>>;
    fn report_compliance<'a>(
        &'a self,
        report: &'a ComplianceReport,
    ) -> BoxFuture<'a, Result<(), HubError>>;
    fn report_violations<'a>(
        &'a self,
        batch: &'a ViolationBatch,
    ) -> BoxFuture<'a, Result<(), HubError>>;
    /// `POST /v1/cluster/remediations`. A hub that does not take them refuses (the
    /// report is dropped, never retried).
    fn report_remediation<'a>(
        &'a self,
        _report: &'a RemediationReport,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async {
            Ok(Delivery::Refused(
                "this hub takes no remediation reports".into(),
            ))
        })
    }
    /// `POST /v1/cluster/workloads`: pods bound to Nodes, for the audit trail. A hub that
    /// does not take them refuses (the batch is dropped, never retried).
    fn report_workloads<'a>(
        &'a self,
        _batch: &'a WorkloadBatch,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async {
            Ok(Delivery::Refused(
                "this hub takes no workload records".into(),
            ))
        })
    }
}

/// What the hub did with a report it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Taken (`recorded`: it changed an alert).
    Taken { recorded: bool },
    /// Refused for good (a 4xx answer naming the report): retrying would not help.
    Refused(String),
}

/// What the hub part did, for logs, tests and (later) metrics.
#[derive(Debug, Default)]
pub struct HubStats {
    pub bundles_applied: AtomicU64,
    pub bundles_refused: AtomicU64,
    pub audits: AtomicU64,
    pub compliance_reports_failed: AtomicU64,
    pub violations_sent: AtomicU64,
    pub violation_batches_failed: AtomicU64,
    pub remediations_sent: AtomicU64,
    pub remediations_refused: AtomicU64,
    pub remediation_posts_failed: AtomicU64,
    pub workloads_sent: AtomicU64,
    pub workloads_refused: AtomicU64,
    pub workload_batches_failed: AtomicU64,
}

impl HubStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The current time, unix seconds (the policy engine never reads a clock itself).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
