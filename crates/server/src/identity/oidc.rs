//! The OpenID Connect provider people sign in with (`--oidc-issuer`, `--oidc-client-id`).
//! It is discovered on first use and again after a failure, not at start: a provider
//! that is down keeps people out (fail closed) but never stops the service from starting
//! or serving agents and clusters. After a failed discovery the next try waits
//! [`RETRY_AFTER`]: requests carrying made-up ID tokens must not turn into a stream of
//! requests to the provider.

use ironroot_oidc::{IdToken, Provider, ProviderConfig};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The least time between two discoveries of a provider that was unavailable.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(30);

/// How to reach the provider.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    /// PEM trust anchors for an `https://` issuer; `None` takes the system's.
    pub ca_file: Option<PathBuf>,
    /// The client secret for the dashboard's code exchange, when the provider registered
    /// this service as a confidential client; `None` for a public one (PKCE alone).
    pub client_secret_file: Option<PathBuf>,
}

pub(crate) struct LazyProvider {
    settings: OidcSettings,
    provider: tokio::sync::OnceCell<Provider>,
    last_failure: Mutex<Option<Instant>>,
}

impl LazyProvider {
    pub(crate) fn new(settings: OidcSettings) -> LazyProvider {
        LazyProvider {
            settings,
            provider: tokio::sync::OnceCell::new(),
            last_failure: Mutex::new(None),
        }
    }

    pub(crate) fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    pub(crate) async fn provider(&self) -> Result<&Provider, String> {
        if let Some(p) = self.provider.get() {
            return Ok(p);
        }
        {
            let last = self.last_failure.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                return Err("the sign-in provider is unavailable; retrying shortly".into());
            }
        }
        let found = self
            .provider
            .get_or_try_init(|| async {
                let mut config =
                    ProviderConfig::new(&self.settings.issuer, &self.settings.client_id);
                if let Some(f) = &self.settings.ca_file {
                    let pem = std::fs::read(f)
                        .map_err(|e| format!("OIDC CA file {}: {e}", f.display()))?;
                    config.roots = Some(
                        ironroot_tls::roots_from_pem(&pem)
                            .map_err(|e| format!("OIDC CA file {}: {e}", f.display()))?,
                    );
                }
                Provider::discover(config).await.map_err(|e| {
                    tracing::warn!(issuer = %self.settings.issuer, error = %e, "OpenID Connect provider unavailable");
                    format!("the sign-in provider is unavailable: {e}")
                })
            })
            .await;
        if found.is_err() {
            *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        found
    }

    /// Verifies a person's ID token (no nonce: the token was obtained by the caller's own
    /// sign-in, and its audience is this service's client id).
    pub(crate) async fn verify(&self, token: &str) -> Result<IdToken, String> {
        self.provider()
            .await?
            .verify(token, None)
            .await
            .map_err(|e| e.to_string())
    }
}
