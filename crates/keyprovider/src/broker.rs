//! Wrapping through the broker: the layer's private options are sealed by the broker
//! under the named key (`POST /v1/keys/{id}/wrap`), creating the key with the given
//! policy if it does not exist. The build host never sees the key.

use crate::admin_url::{admin_base_url, PlainHttp};
use crate::{BoxFuture, KeySpec, Packet, ProviderError, Wrapper};
use ironroot_api::{ApiError, CreateKey, ErrorKind, KeyInfo, WrapRequest, WrappedBlob, B64};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An HTTPS client of the broker, authenticated with the admin token.
pub struct BrokerWrapper {
    http: reqwest::Client,
    base: String,
    token: zeroize::Zeroizing<String>,
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
        let base = admin_base_url(base, plain_http)
            .map_err(|e| ProviderError::NotConfigured(e.to_string()))?;
        let bad = |e: String| ProviderError::NotConfigured(format!("the service CA: {e}"));
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca_pem) {
            roots
                .add(c.map_err(|e| bad(e.to_string()))?)
                .map_err(|e| bad(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(bad("no certificate in the file".into()));
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ProviderError::Internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            // A redirect could lead the token to another scheme or host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Internal(e.to_string()))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(ProviderError::NotConfigured(
                "the admin token is empty".into(),
            ));
        }
        Ok(BrokerWrapper {
            http,
            base,
            token: zeroize::Zeroizing::new(token.to_owned()),
            resolved: Mutex::new(HashMap::new()),
        })
    }

    async fn send<R: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Result<R, ApiError>, ProviderError> {
        let unreachable = |e: &dyn std::error::Error| {
            ProviderError::Unreachable(format!(
                "cannot reach the ironroot key broker at {}: {e}",
                self.base
            ))
        };
        let resp = req
            .bearer_auth(self.token.as_str())
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| unreachable(&e))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map(Ok).map_err(|e| {
                ProviderError::Internal(format!("unexpected answer from the broker: {e}"))
            });
        }
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(e) => Ok(Err(e)),
            Err(_) => Err(ProviderError::Unreachable(format!(
                "the key broker at {} answered HTTP {status}",
                self.base
            ))),
        }
    }

    async fn get<R: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Result<R, ApiError>, ProviderError> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Result<R, ApiError>, ProviderError> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
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
        let path = format!("/v1/keys/{}", spec.name.replace('/', "%2F"));
        let mut found = match self.get::<KeyInfo>(&path).await? {
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
            found = match self.post::<_, KeyInfo>("/v1/keys", &create).await? {
                Ok(k) => {
                    tracing::info!(key = %k.name, key_id = %k.key_id, "created broker key");
                    Some(k)
                }
                // Another layer or build created it meanwhile: read it back.
                Err(e) if e.kind == ErrorKind::BadRequest && e.message.contains("exists") => {
                    Some(self.get::<KeyInfo>(&path).await?.map_err(refused)?)
                }
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
            "the key broker did not accept the admin token: {}",
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
                .post(&format!("/v1/keys/{}/wrap", key.key_id), &req)
                .await?
                .map_err(refused)?;
            if blob.key_id != key.key_id {
                return Err(ProviderError::Internal(
                    "the broker wrapped under another key than asked".into(),
                ));
            }
            Packet::from_blob(blob, &key.name)
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
