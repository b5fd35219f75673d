//! What the governance views show, put in place through the hub's own routes: a policy
//! set written by an administrator, one cluster registered with its own key and CSR, and
//! its compliance report and violations sent over mTLS with the certificate it was issued.

use ironroot_api::{
    ComplianceReport, ComplianceStatus, ObjectRef, PolicyChange, PolicyCompliance, RegisterCluster,
    ViolationAction, ViolationBatch, ViolationEvent, ViolationSample,
};
use ironroot_client::Client;
use ironroot_e2e::Platform;

pub(super) const CLUSTER: &str = "eu-west";
const POLICIES: &str = "version: 1
policies:
  - id: no-privileged
    description: No privileged containers.
    severity: high
    mode: enforce
    remediation: deny
    rule: { no-privileged: {} }
  - id: run-as-non-root
    description: Containers run as a user other than root.
    severity: medium
    mode: audit
    remediation: alert
    rule: { run-as-non-root: {} }
";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn object(namespace: &str, kind: &str, name: &str) -> ObjectRef {
    ObjectRef {
        namespace: namespace.into(),
        kind: kind.into(),
        name: name.into(),
    }
}

/// A policy set, one registered cluster with its client certificate, its compliance
/// report and three violations, all through the hub's routes.
pub(super) async fn seed(p: &Platform) {
    p.admin
        .put_policies(&PolicyChange {
            document: POLICIES.into(),
            by: "alice".into(),
            comment: Some("dashboard test".into()),
        })
        .await
        .unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let reg = p
        .admin
        .register_cluster(&RegisterCluster {
            name: CLUSTER.into(),
            csr_pem: csr,
        })
        .await
        .unwrap();
    let cluster = Client::agent(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        Some((&reg.cert_pem, &key.serialize_pem())),
    )
    .unwrap();
    let sample = ViolationSample {
        object: object("payments", "Pod", "api"),
        message: "container app is privileged".into(),
    };
    let report = ComplianceReport {
        policy_version: 1,
        generated_at: now(),
        webhook_serving: true,
        policies: vec![
            PolicyCompliance {
                policy: "run-as-non-root".into(),
                status: ComplianceStatus::Compliant,
                checked: 5,
                violations: 0,
                unknown: 0,
                samples: vec![],
            },
            PolicyCompliance {
                policy: "no-privileged".into(),
                status: ComplianceStatus::NonCompliant,
                checked: 5,
                violations: 2,
                unknown: 0,
                samples: vec![sample],
            },
        ],
    };
    cluster.report_compliance(&report).await.unwrap();
    let violation = |policy: &str, o: ObjectRef, action| ViolationEvent {
        policy: policy.into(),
        object: o,
        message: format!("{policy} is broken"),
        action,
        at: now(),
    };
    let batch = ViolationBatch {
        violations: vec![
            violation(
                "no-privileged",
                object("payments", "Pod", "api"),
                ViolationAction::Found,
            ),
            violation(
                "no-privileged",
                object("shop", "Pod", "web"),
                ViolationAction::Denied,
            ),
            violation(
                "run-as-non-root",
                object("payments", "Pod", "api"),
                ViolationAction::Admitted,
            ),
        ],
    };
    cluster.report_violations(&batch).await.unwrap();
}
