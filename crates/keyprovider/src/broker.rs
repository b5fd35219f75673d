//! Wrapping through the broker: the layer's private options are sealed by the broker
//! under the named key (`POST /v1/keys/{id}/wrap`), creating the key with the given
//! policy if it does not exist. The build host never sees the key.

use crate::{BoxFuture, KeySpec, Packet, ProviderError, Wrapper};
use ironroot_api::{ApiError, CreateKey, ErrorKind, KeyInfo, WrapRequest, WrappedBlob, B64};
use ironroot_client::{Client, ClientError, PlainHttp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An HTTPS client of the broker, authenticated with a bearer token: on a build host, an
/// API token with the `build` role (it wraps with keys, and can neither create one nor
/// touch hosts).
pub struct BrokerWrapper {
    client: Client,
    /// Key name to id, once checked against the requested policy (one lookup per key,
    /// not per layer).
    resolved: Mutex<HashMap<KeySpecKey, Arc<KeyInfo>>>,
}

type KeySpecKey = (String, Option<String>);

impl BrokerWrapper {
    /// A client of the broker at `base`, which must be an `https://` URL.
    pub fn new(base: &str, ca_pem: &[u8], token: &str) -> Result<BrokerWrapper, ProviderError> {
        Self::with_plain_http(base, ca_pem, token, PlainHttp::Refused)
    }

    /// As [`BrokerWrapper::new`], with plain `http://` to a loopback address allowed when
    /// `plain_http` says so (`--insecure-http-loopback`).
    pub fn with_plain_http(
        base: &str,
        ca_pem: &[u8],
        token: &str,
        plain_http: PlainHttp,
    ) -> Result<BrokerWrapper, ProviderError> {
        // The URL is checked first: nothing is read or sent for a refused one.
        ironroot_client::admin_base_url(base, plain_http)
            .map_err(|e| ProviderError::NotConfigured(e.to_string()))?;
        let no_ca = ironroot_tls::certs_from_pem(ca_pem).is_ok_and(|c| c.is_empty());
        if no_ca {
            return Err(ProviderError::NotConfigured(
                "the service CA: no certificate in the file".into(),
            ));
        }
        let token = token.trim();
        let client = Client::admin(base, ca_pem, token, plain_http).map_err(|e| match e {
            e @ (ClientError::Url(_) | ClientError::Ca(_)) => {
                ProviderError::NotConfigured(e.to_string())
            }
            e => ProviderError::Internal(e.to_string()),
        })?;
        if token.is_empty() {
            return Err(ProviderError::NotConfigured(
                "the admin token is empty".into(),
            ));
        }
        Ok(BrokerWrapper {
            client,
            resolved: Mutex::new(HashMap::new()),
        })
    }

    /// The service's refusal as `Ok(Err(_))` (the caller decides what a refusal means);
    /// anything else as the provider's error.
    fn answer<R>(&self, r: Result<R, ClientError>) -> Result<Result<R, ApiError>, ProviderError> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(ClientError::Api { error, .. }) => Ok(Err(error)),
            Err(ClientError::Unreachable { detail, .. }) => {
                Err(ProviderError::Unreachable(format!(
                    "cannot reach the ironroot key broker at {}: {detail}",
                    self.client.base()
                )))
            }
            Err(ClientError::Status { status }) => Err(ProviderError::Unreachable(format!(
                "the key broker at {} answered HTTP {status}",
                self.client.base()
            ))),
            Err(ClientError::Decode(e)) => Err(ProviderError::Internal(format!(
                "unexpected answer from the broker: {e}"
            ))),
            Err(e) => Err(ProviderError::Internal(format!("the key broker: {e}"))),
        }
    }

    /// Finds the key, creating it when a policy was given and it does not exist; a key
    /// that exists with another policy is refused rather than silently used.
    async fn resolve(&self, spec: &KeySpec) -> Result<Arc<KeyInfo>, ProviderError> {
        let policy_json = spec
            .policy
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default());
        let cache_key = (spec.name.clone(), policy_json);
        if let Some(k) = lock(&self.resolved).get(&cache_key) {
            return Ok(k.clone());
        }
        let mut found = match self.answer(self.client.key(&spec.name).await)? {
            Ok(k) => Some(k),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(refused(e)),
        };
        if found.is_none() {
            let Some(policy) = &spec.policy else {
                return Err(ProviderError::KeySpec(format!(
                    "the broker has no key named {}; to create it, give its policy: \
                     provider:ironroot:{}+tag:region=EU (or {}+trusted)",
                    spec.name, spec.name, spec.name
                )));
            };
            let create = CreateKey {
                name: spec.name.clone(),
                policy: policy.clone(),
                material: None,
            };
            found = match self.answer(self.client.create_key(&create).await)? {
                Ok(k) => {
                    tracing::info!(key = %k.name, key_id = %k.key_id, "created broker key");
                    Some(k)
                }
                // Another layer or build created it meanwhile: read it back.
                Err(e) if e.kind == ErrorKind::BadRequest && e.message.contains("exists") => Some(
                    self.answer(self.client.key(&spec.name).await)?
                        .map_err(refused)?,
                ),
                Err(e) => return Err(refused(e)),
            };
        }
        let key = found.ok_or_else(|| ProviderError::Internal("key lookup".into()))?;
        if let Some(p) = &spec.policy {
            if *p != key.policy {
                return Err(ProviderError::KeySpec(format!(
                    "key {} exists with another policy ({}), not the one asked for ({}); \
                     name it alone to use it as it is, or choose a new name",
                    key.name,
                    serde_json::to_string(&key.policy).unwrap_or_default(),
                    serde_json::to_string(p).unwrap_or_default()
                )));
            }
        }
        let key = Arc::new(key);
        lock(&self.resolved).insert(cache_key, key.clone());
        Ok(key)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn refused(e: ApiError) -> ProviderError {
    match e.kind {
        ErrorKind::Unavailable => {
            ProviderError::Unreachable(format!("the key broker: {}", e.message))
        }
        ErrorKind::Unauthenticated => ProviderError::NotConfigured(format!(
            "the key broker did not accept the token (an API token with the build role, or the bootstrap token): {}",
            e.message
        )),
        _ => ProviderError::Refused(format!("the key broker refused: {}", e.message)),
    }
}

impl Wrapper for BrokerWrapper {
    fn wrap<'a>(
        &'a self,
        spec: &'a KeySpec,
        optsdata: &'a [u8],
    ) -> BoxFuture<'a, Result<Packet, ProviderError>> {
        Box::pin(async move {
            let key = self.resolve(spec).await?;
            let req = WrapRequest {
                plaintext: B64(optsdata.to_vec()),
            };
            let blob: WrappedBlob = self
                .answer(self.client.wrap(&key.key_id, &req).await)?
                .map_err(refused)?;
            if blob.key_id != key.key_id {
                return Err(ProviderError::Internal(
                    "the broker wrapped under another key than asked".into(),
                ));
            }
            Ok(Packet::from_blob(blob, &key.name)?)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn broker_client_refuses_to_send_the_admin_token_over_plain_http() {
        let e = BrokerWrapper::new("http://ironroot.example:8443", b"", "token")
            .err()
            .unwrap();
        assert!(
            matches!(&e, ProviderError::NotConfigured(m) if m.contains("only https://")),
            "{e}"
        );
        // The development flag opens loopback only.
        let e = BrokerWrapper::with_plain_http(
            "http://ironroot.example:8443",
            b"",
            "token",
            PlainHttp::LoopbackOnly,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("loopback"), "{e}");
        // There the URL passes, and the next check (the CA file) speaks.
        let e = BrokerWrapper::with_plain_http(
            "http://127.0.0.1:8080",
            b"",
            "token",
            PlainHttp::LoopbackOnly,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("the service CA"), "{e}");
    }
}
