//! A provider reached over HTTP: discovery once, then the key set, cached and fetched again
//! when a token names a key the cache does not hold (the provider rotated its keys), at most
//! once per `min_refresh_interval` so tokens with made-up key ids cannot make ironroot hammer
//! the provider. The HTTP client is `ironroot_client::https_client` (TLS from `ironroot_tls`,
//! redirects not followed: they could leave the rule of `issuer.rs`, plain HTTP only to a
//! loopback issuer).

use crate::claims::{ClockSkew, Expectations, IdToken};
use crate::code::{check_inputs, parse_token_response, CodeError, MAX_TOKEN_RESPONSE_BYTES};
use crate::discovery::{DiscoveryError, ProviderMetadata, MAX_METADATA_BYTES};
use crate::issuer::{check_issuer, discovery_url, UrlError};
use crate::jwks::{JwksError, KeySet, MAX_JWKS_BYTES};
use crate::verify::{verify_id_token, VerifyError};
use ironroot_client::error_chain;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a provider could not be used, or a token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("{0}")]
    Url(#[from] UrlError),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("could not fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("{0}")]
    Discovery(#[from] DiscoveryError),
    #[error("the key set at {url}: {source}")]
    Jwks { url: String, source: JwksError },
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("{0}")]
    Code(#[from] CodeError),
}

/// What one Authorization Code grant for a PKCE sign-in sends ([`Provider::exchange_code`]).
pub struct CodeGrant<'a> {
    pub code: &'a str,
    /// The PKCE verifier whose S256 challenge the authorization request carried.
    pub code_verifier: &'a str,
    /// Exactly the `redirect_uri` of the authorization request (RFC 6749 section 4.1.3).
    pub redirect_uri: &'a str,
    /// For a confidential client (`client_secret_post`); a public client has none.
    pub client_secret: Option<&'a str>,
    /// The nonce of the authorization request: the ID token must carry it.
    pub nonce: &'a str,
}

/// A verified ID token from a code grant, and the token itself (compact JWS), which a
/// caller presents as its bearer credential afterwards.
pub struct SignedIn {
    pub claims: IdToken,
    pub id_token: String,
}

/// How to reach and trust a provider.
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    /// Trust anchors for an `https://` issuer: `None` takes the system's.
    pub roots: Option<ironroot_tls::RootCertStore>,
    pub skew: ClockSkew,
    /// The least time between two key set fetches caused by unknown key ids.
    pub min_refresh_interval: Duration,
}

impl ProviderConfig {
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> ProviderConfig {
        ProviderConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            roots: None,
            skew: ClockSkew::DEFAULT,
            min_refresh_interval: Duration::from_secs(30),
        }
    }
}

struct Keys {
    set: Arc<KeySet>,
    fetched: Instant,
}

/// A discovered provider with its cached keys.
pub struct Provider {
    http: reqwest::Client,
    metadata: ProviderMetadata,
    client_id: String,
    skew: ClockSkew,
    min_refresh: Duration,
    keys: RwLock<Keys>,
    // One refresh at a time: concurrent unknown-kid tokens wait for the same fetch.
    refreshing: tokio::sync::Mutex<()>,
}

impl Provider {
    /// Fetches the provider's metadata and key set.
    pub async fn discover(config: ProviderConfig) -> Result<Provider, OidcError> {
        let issuer = check_issuer(&config.issuer)?;
        let roots = match config.roots {
            Some(r) => r,
            None => ironroot_tls::system_roots().map_err(|e| OidcError::Client(e.to_string()))?,
        };
        let http = ironroot_client::https_client(roots, None, TIMEOUT)
            .map_err(|e| OidcError::Client(e.to_string()))?;
        let url = discovery_url(&issuer)?;
        let body = get_limited(&http, &url, MAX_METADATA_BYTES).await?;
        let metadata = ProviderMetadata::from_json(&body, &config.issuer)?;
        let set = fetch_keys(&http, &metadata.jwks_uri).await?;
        Ok(Provider {
            http,
            metadata,
            client_id: config.client_id,
            skew: config.skew,
            min_refresh: config.min_refresh_interval,
            keys: RwLock::new(Keys {
                set: Arc::new(set),
                fetched: Instant::now(),
            }),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// Verifies an ID token now; `nonce` is the one the sign-in sent, if any.
    pub async fn verify(&self, token: &str, nonce: Option<&str>) -> Result<IdToken, OidcError> {
        self.verify_at(token, nonce, ironroot_timestamp::now_unix())
            .await
    }

    /// [`Provider::verify`] with the clock at `now` (unix seconds).
    pub async fn verify_at(
        &self,
        token: &str,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<IdToken, OidcError> {
        let expect = Expectations {
            issuer: &self.metadata.issuer,
            client_id: &self.client_id,
            nonce,
            skew: self.skew,
            now,
        };
        let algs = &self.metadata.signing_algorithms;
        let first = verify_id_token(token, &self.current(), algs, &expect);
        match first {
            Err(VerifyError::UnknownKey { .. }) => {
                let keys = self.refresh().await?;
                Ok(verify_id_token(token, &keys, algs, &expect)?)
            }
            other => Ok(other?),
        }
    }

    /// Exchanges an authorization code at the provider's token endpoint and verifies the
    /// ID token it answers with, nonce included. The inputs are checked first, so that
    /// nothing malformed reaches the provider.
    pub async fn exchange_code(&self, grant: &CodeGrant<'_>) -> Result<SignedIn, OidcError> {
        check_inputs(grant.code, grant.code_verifier, grant.nonce)?;
        let url = self
            .metadata
            .token_endpoint
            .as_ref()
            .ok_or(CodeError::NoTokenEndpoint)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", grant.code),
            ("redirect_uri", grant.redirect_uri),
            ("code_verifier", grant.code_verifier),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(secret) = grant.client_secret {
            form.push(("client_secret", secret));
        }
        let res = self
            .http
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| fetch_error(url, &e))?;
        let status = res.status().as_u16();
        let body = read_limited(res, url, MAX_TOKEN_RESPONSE_BYTES).await?;
        let id_token = parse_token_response(status, &body)?;
        let claims = self.verify(&id_token, Some(grant.nonce)).await?;
        Ok(SignedIn { claims, id_token })
    }

    fn current(&self) -> Arc<KeySet> {
        // A poisoned lock only means a panic elsewhere; the set in it is still whole.
        match self.keys.read() {
            Ok(k) => k.set.clone(),
            Err(p) => p.into_inner().set.clone(),
        }
    }

    /// Fetches the key set again unless it was fetched less than `min_refresh` ago, and
    /// returns the set to use.
    async fn refresh(&self) -> Result<Arc<KeySet>, OidcError> {
        let _one = self.refreshing.lock().await;
        let recent = match self.keys.read() {
            Ok(k) => k.fetched.elapsed() < self.min_refresh,
            Err(p) => p.into_inner().fetched.elapsed() < self.min_refresh,
        };
        if recent {
            return Ok(self.current());
        }
        let fetched = fetch_keys(&self.http, &self.metadata.jwks_uri).await;
        let mut keys = match self.keys.write() {
            Ok(k) => k,
            Err(p) => p.into_inner(),
        };
        // A failed fetch counts too: the limit protects the provider whatever it answers,
        // and the keys held so far stay in use.
        keys.fetched = Instant::now();
        keys.set = Arc::new(fetched?);
        Ok(keys.set.clone())
    }
}

async fn fetch_keys(http: &reqwest::Client, url: &reqwest::Url) -> Result<KeySet, OidcError> {
    let body = get_limited(http, url, MAX_JWKS_BYTES).await?;
    KeySet::from_json(&body).map_err(|source| OidcError::Jwks {
        url: url.to_string(),
        source,
    })
}

/// GETs `url` and reads at most `max` bytes of a 200 answer.
async fn get_limited(
    http: &reqwest::Client,
    url: &reqwest::Url,
    max: usize,
) -> Result<Vec<u8>, OidcError> {
    let res = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| fetch_error(url, &e))?;
    if res.status() != reqwest::StatusCode::OK {
        return Err(OidcError::Status {
            url: url.to_string(),
            status: res.status().as_u16(),
        });
    }
    read_limited(res, url, max).await
}

fn fetch_error(url: &reqwest::Url, e: &reqwest::Error) -> OidcError {
    OidcError::Fetch {
        url: url.to_string(),
        reason: error_chain(e),
    }
}

/// Reads at most `max` bytes of an answer's body.
async fn read_limited(
    mut res: reqwest::Response,
    url: &reqwest::Url,
    max: usize,
) -> Result<Vec<u8>, OidcError> {
    let too_large = || OidcError::TooLarge {
        url: url.to_string(),
        max,
    };
    if res.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| fetch_error(url, &e))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
