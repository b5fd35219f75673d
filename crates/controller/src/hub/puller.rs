//! Pulls the cluster's policy bundle from the hub every `poll` (`If-None-Match` with the
//! version held, so an unchanged set costs a 304), verifies it ([`super::bundle`]), keeps
//! it on disk ([`super::store`]) and puts it in force. A refused bundle changes nothing:
//! the set in force stays, the refusal is logged and counted. The hub's JWKS is read at
//! start and again whenever a bundle names a key it does not hold (a key rotation).

use super::bundle::{self, BundleError, Held, VerifiedBundle};
use super::store::BundleStore;
use super::{Hub, HubStats};
use crate::policies::{Active, Policies};
use ironroot_crypto::JwkSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The puller's fixed parts.
pub struct Puller {
    pub hub: Arc<dyn Hub>,
    pub cluster_id: String,
    pub store: Option<BundleStore>,
    pub policies: Arc<Policies>,
    pub stats: Arc<HubStats>,
    /// Woken after each new set is in force (the audit runs at once).
    pub changed: Arc<Notify>,
    pub poll: Duration,
}

/// What the puller holds between polls.
#[derive(Default)]
pub struct PullState {
    pub jwks: Option<JwkSet>,
    pub held: Option<Held>,
}

impl Puller {
    /// Loads the kept bundle, if any, re-verified against the kept JWKS. A kept bundle that
    /// no longer verifies is ignored (logged), never enforced half-trusted.
    pub fn load_kept(&self) -> PullState {
        let mut st = PullState::default();
        let Some(store) = &self.store else {
            return st;
        };
        match store.load() {
            Ok(Some((jws, jwks))) => {
                match bundle::verify(&jwks, &jws, None, &self.cluster_id, None) {
                    Ok(b) => {
                        tracing::info!(
                            version = b.payload.version,
                            "enforcing the last good policy bundle kept on disk until the hub answers"
                        );
                        st.jwks = Some(jwks);
                        self.put_in_force(b, &mut st);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the kept policy bundle does not verify: ignored")
                    }
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "reading the kept policy bundle"),
        }
        st
    }

    /// Polls until the task is dropped.
    pub async fn run(self, mut st: PullState) {
        let mut hub_down = false;
        loop {
            match self.poll_once(&mut st).await {
                Ok(()) => {
                    if hub_down {
                        tracing::info!("the hub answers again");
                    }
                    hub_down = false;
                }
                Err(PollError::Hub(e)) => {
                    if !hub_down {
                        tracing::warn!(error = %e, "the hub is unreachable: enforcing the policy set held");
                    }
                    hub_down = true;
                }
                Err(PollError::Refused(e)) => {
                    HubStats::add(&self.stats.bundles_refused, 1);
                    tracing::error!(error = %e, held = ?st.held.as_ref().map(|h| h.version),
                        "refused the hub's policy bundle: the policy set held stays in force");
                }
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// One poll: ask, verify, keep, put in force.
    pub async fn poll_once(&self, st: &mut PullState) -> Result<(), PollError> {
        let have = st.held.as_ref().map(|h| h.version);
        let Some(offered) = self.hub.bundle(have).await.map_err(PollError::Hub)? else {
            return Ok(());
        };
        if st.jwks.is_none() {
            st.jwks = Some(self.hub.jwks().await.map_err(PollError::Hub)?);
        }
        let check = |jwks: &JwkSet| {
            bundle::verify(
                jwks,
                &offered.jws,
                Some(offered.version),
                &self.cluster_id,
                st.held.as_ref(),
            )
        };
        let mut result = check(st.jwks.as_ref().unwrap_or(&JwkSet::default()));
        if matches!(result, Err(BundleError::UnknownKey(_))) {
            let fresh = self.hub.jwks().await.map_err(PollError::Hub)?;
            result = check(&fresh);
            if result.is_ok() {
                st.jwks = Some(fresh);
            }
        }
        let verified = result.map_err(PollError::Refused)?;
        if st.held.as_ref() == Some(&verified.held()) {
            return Ok(());
        }
        if let (Some(store), Some(jwks)) = (&self.store, &st.jwks) {
            // Not keeping it is not a reason to refuse it: it is good, only not durable.
            if let Err(e) = store.save(&verified.jws, jwks) {
                tracing::error!(error = %e, "could not keep the policy bundle on disk");
            }
        }
        tracing::info!(
            version = verified.payload.version,
            policies = verified.set.policies().len(),
            "a new policy bundle from the hub is in force"
        );
        self.put_in_force(verified, st);
        Ok(())
    }

    fn put_in_force(&self, b: VerifiedBundle, st: &mut PullState) {
        st.held = Some(b.held());
        self.policies.replace(Active {
            set: b.set,
            cluster: b.payload.cluster_name,
            version: b.payload.version,
        });
        HubStats::add(&self.stats.bundles_applied, 1);
        self.changed.notify_one();
    }
}

/// Why a poll did not put a bundle in force.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Hub(super::HubError),
    #[error(transparent)]
    Refused(BundleError),
}

#[cfg(test)]
#[path = "puller_tests.rs"]
mod tests;
