//! A hub in memory for the unit tests: serves the bundle and JWKS it is given, records
//! what the cluster reports, and fails on demand.

use super::{Delivery, Hub, HubError};
use crate::webhook::BoxFuture;
use ironroot_api::{
    ComplianceReport, RemediationReport, SignedBundle, ViolationBatch, WorkloadBatch,
};
use ironroot_crypto::JwkSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeHub {
    pub bundle: Mutex<Option<SignedBundle>>,
    pub jwks: Mutex<JwkSet>,
    pub jwks_reads: AtomicUsize,
    pub compliance: Mutex<Vec<ComplianceReport>>,
    pub violations: Mutex<Vec<ViolationBatch>>,
    pub down: AtomicBool,
    /// Violation posts refused before one is accepted.
    pub refuse_violations: AtomicUsize,
    pub remediations: Mutex<Vec<RemediationReport>>,
    /// Remediation posts failed (as by an outage) before one is taken.
    pub fail_remediations: AtomicUsize,
    /// Hosts whose remediation reports the hub refuses for good.
    pub refuse_hosts: Mutex<Vec<String>>,
    pub workloads: Mutex<Vec<WorkloadBatch>>,
}

impl FakeHub {
    fn up(&self) -> Result<(), HubError> {
        if self.down.load(Ordering::SeqCst) {
            Err(HubError("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

impl Hub for FakeHub {
    fn bundle(&self, have: Option<u64>) -> BoxFuture<'_, Result<Option<SignedBundle>, HubError>> {
        Box::pin(async move {
            self.up()?;
            let b = self.bundle.lock().unwrap().clone();
            Ok(b.filter(|b| Some(b.version) != have))
        })
    }

    fn jwks(&self) -> BoxFuture<'_, Result<JwkSet, HubError>> {
        Box::pin(async move {
            self.up()?;
            self.jwks_reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.jwks.lock().unwrap().clone())
        })
    }

    fn report_compliance<'a>(
        &'a self,
        report: &'a ComplianceReport,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async move {
            self.up()?;
            self.compliance.lock().unwrap().push(report.clone());
            Ok(())
        })
    }

    fn report_violations<'a>(
        &'a self,
        batch: &'a ViolationBatch,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async move {
            self.up()?;
            let refused = self.refuse_violations.load(Ordering::SeqCst);
            if refused > 0 {
                self.refuse_violations.store(refused - 1, Ordering::SeqCst);
                return Err(HubError("503".into()));
            }
            self.violations.lock().unwrap().push(batch.clone());
            Ok(())
        })
    }

    fn report_remediation<'a>(
        &'a self,
        report: &'a RemediationReport,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async move {
            self.up()?;
            let failing = self.fail_remediations.load(Ordering::SeqCst);
            if failing > 0 {
                self.fail_remediations.store(failing - 1, Ordering::SeqCst);
                return Err(HubError("503".into()));
            }
            if self.refuse_hosts.lock().unwrap().contains(&report.host_id) {
                return Ok(Delivery::Refused("bound to another node".into()));
            }
            self.remediations.lock().unwrap().push(report.clone());
            Ok(Delivery::Taken { recorded: true })
        })
    }

    fn report_workloads<'a>(
        &'a self,
        batch: &'a WorkloadBatch,
    ) -> BoxFuture<'a, Result<Delivery, HubError>> {
        Box::pin(async move {
            self.up()?;
            self.workloads.lock().unwrap().push(batch.clone());
            Ok(Delivery::Taken { recorded: true })
        })
    }
}
