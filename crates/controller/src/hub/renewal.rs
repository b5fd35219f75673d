//! Renewing the cluster's certificate at half-life, before it expires
//! (`POST /v1/cluster/certificate`, asked with the current one).
//!
//! The order is what keeps the cluster from locking itself out: the hub keeps the old
//! certificate valid until the new one is first used, so the new one is stored where a
//! restarted controller finds it (the cluster's Secret when `--cluster-secret` names
//! it, then `--state-dir`) before the client switches to it. A step that fails leaves
//! the old certificate in use, and renewal is tried again with backoff.

use super::identity::{self, IdentityError, Validity};
use super::store::{BundleStore, StoreError, StoredIdentity};
use ironroot_client::{Client, ClientError};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use std::collections::BTreeMap;
use std::time::Duration;

const MIN_RETRY: Duration = Duration::from_secs(30);
const MAX_RETRY: Duration = Duration::from_secs(600);
/// The longest single sleep, so that a clock set forward is noticed within the hour.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenewError {
    #[error("the hub: {0}")]
    Hub(#[from] ClientError),
    #[error("the renewed certificate: {0}")]
    Certificate(#[from] IdentityError),
    #[error("the hub renewed the certificate of cluster {got}, not this cluster's ({want})")]
    OtherCluster { want: String, got: String },
    #[error("keeping the renewed certificate: {0}")]
    Store(#[from] StoreError),
    #[error("writing the renewed certificate to Secret {name}: {source}")]
    Secret { name: String, source: kube::Error },
}

/// The Secret the cluster's certificate is mounted from, and its two keys.
#[derive(Clone)]
pub struct SecretTarget {
    pub api: kube::Api<Secret>,
    pub name: String,
    /// The key holding the certificate (the file name of `--cluster-cert`).
    pub cert_key: String,
    /// The key holding the private key (the file name of `--cluster-key`).
    pub key_key: String,
}

impl SecretTarget {
    async fn write(&self, identity: &StoredIdentity) -> Result<(), RenewError> {
        let data = BTreeMap::from([
            (
                self.cert_key.clone(),
                ByteString(identity.cert_pem.as_bytes().to_vec()),
            ),
            (
                self.key_key.clone(),
                ByteString(identity.key_pem.as_bytes().to_vec()),
            ),
        ]);
        let patch = Secret {
            data: Some(data),
            ..Secret::default()
        };
        self.api
            .patch(
                &self.name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .map(|_| ())
            .map_err(|source| RenewError::Secret {
                name: self.name.clone(),
                source,
            })
    }
}

/// The renewal of one cluster's certificate.
#[derive(Clone)]
pub struct Renewal {
    /// The cluster's client of the hub; every clone of it switches identity together.
    pub client: Client,
    pub cluster_id: String,
    /// The certificate in use.
    pub validity: Validity,
    pub store: Option<BundleStore>,
    pub secret: Option<SecretTarget>,
}

impl Renewal {
    /// Renews at half-life, for as long as the task runs.
    pub async fn run(mut self) {
        let mut retry = MIN_RETRY;
        loop {
            let now = ironroot_timestamp::now_unix();
            let due = self.validity.renew_at();
            if now < due {
                tokio::time::sleep(Duration::from_secs(due - now).min(MAX_SLEEP)).await;
                continue;
            }
            match self.renew_once().await {
                Ok(v) => {
                    tracing::info!(cluster = %self.cluster_id, not_after = v.not_after, "cluster certificate renewed");
                    self.validity = v;
                    retry = MIN_RETRY;
                }
                Err(e) => {
                    if now >= self.validity.not_after {
                        tracing::error!(error = %e, "the cluster certificate has expired and could not be renewed: the hub refuses this cluster until an administrator registers it again");
                    } else {
                        tracing::warn!(error = %e, retry_secs = retry.as_secs(), "could not renew the cluster certificate; the current one stays in use");
                    }
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
        }
    }

    /// One renewal: a new key, the hub's certificate for it, kept, then used.
    pub async fn renew_once(&self) -> Result<Validity, RenewError> {
        let (key_pem, csr_pem) = ironroot_client::new_key_and_csr(&self.cluster_id)?;
        let issued = self.client.renew_cluster_certificate(csr_pem).await?;
        let got = identity::cluster_id(issued.cert_pem.as_bytes())?;
        if got != self.cluster_id {
            return Err(RenewError::OtherCluster {
                want: self.cluster_id.clone(),
                got,
            });
        }
        let validity = identity::validity(issued.cert_pem.as_bytes())?;
        let renewed = StoredIdentity {
            cert_pem: issued.cert_pem.clone(),
            key_pem: key_pem.to_string(),
        };
        // The Secret first: it is what a new pod starts with.
        if let Some(secret) = &self.secret {
            secret.write(&renewed).await?;
        }
        if let Some(store) = &self.store {
            store.save_identity(&renewed)?;
        }
        self.client
            .rotate_identity(&renewed.cert_pem, &renewed.key_pem)?;
        Ok(validity)
    }
}

/// The identity to start with: the one given on the command line, or the one a renewal
/// kept in the state directory when it is this cluster's and expires no earlier (a tie is
/// two certificates of the same second: the kept one is the renewal).
pub fn choose(given: StoredIdentity, kept: Option<StoredIdentity>) -> StoredIdentity {
    let Some(kept) = kept else { return given };
    let id = |i: &StoredIdentity| identity::cluster_id(i.cert_pem.as_bytes()).ok();
    let until = |i: &StoredIdentity| identity::validity(i.cert_pem.as_bytes()).ok();
    match (id(&given), id(&kept), until(&given), until(&kept)) {
        (Some(a), Some(b), Some(g), Some(k)) if a == b && k.not_after >= g.not_after => kept,
        _ => given,
    }
}

impl std::fmt::Debug for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renewal")
            .field("cluster_id", &self.cluster_id)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(id: &str, year: i32) -> StoredIdentity {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names.push(rcgen::SanType::URI(
            format!("urn:ironroot:cluster:{id}").try_into().unwrap(),
        ));
        p.not_after = rcgen::date_time_ymd(year, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        StoredIdentity {
            cert_pem: p.self_signed(&key).unwrap().pem(),
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn a_kept_identity_is_taken_only_when_it_is_this_clusters_and_newer() {
        let given = identity("a", 2030);
        let pick = |kept: Option<StoredIdentity>| choose(given.clone(), kept).cert_pem.clone();
        assert_eq!(pick(None), given.cert_pem);
        let newer = identity("a", 2031);
        assert_eq!(pick(Some(newer.clone())), newer.cert_pem);
        assert_eq!(pick(Some(identity("a", 2029))), given.cert_pem, "older");
        assert_eq!(
            pick(Some(identity("b", 2031))),
            given.cert_pem,
            "another cluster's"
        );
        let garbage = StoredIdentity {
            cert_pem: "not a certificate".into(),
            key_pem: String::new(),
        };
        assert_eq!(pick(Some(garbage)), given.cert_pem);
    }
}
