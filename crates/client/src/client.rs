//! The HTTPS client: how it is set up for an administrator (bearer token) or an agent
//! (mTLS), and the one path every request takes (send, read the answer within its size
//! limit, decode).

use crate::error::{decode, error_chain, ClientError};
use crate::https::{https_client, HttpsError};
use crate::sse::{SseDecoder, SseEvent};
use crate::url::{admin_base_url, agent_base_url, PlainHttp};
use ironroot_tls::Identity;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest answer an administrator client reads (report lists, flavor lists).
pub const ADMIN_RESPONSE_LIMIT: usize = 64 << 20;
/// The largest answer an agent reads: its answers are challenges, certificates and
/// wrapped keys, and a small limit keeps a hostile endpoint from growing the agent.
pub const AGENT_RESPONSE_LIMIT: usize = 1 << 20;

const TIMEOUT: Duration = Duration::from_secs(30);
/// How long an event stream may stay open.
const STREAM_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// A client of the service's REST API. Cheap to clone (the connection pool is shared,
/// and so is its identity: [`Client::rotate_identity`] changes it for every clone).
#[derive(Clone)]
pub struct Client {
    http: Arc<RwLock<reqwest::Client>>,
    /// The service CA, to build the client again with a renewed identity.
    ca_pem: Arc<[u8]>,
    base: String,
    token: Option<Arc<Zeroizing<String>>>,
    /// The organisation a person bound in several acts in (`X-Ironroot-Organisation`).
    organisation: Option<Arc<str>>,
    limit: usize,
}

/// The header naming the organisation a request acts in, for a person bound in several.
pub const ORGANISATION_HEADER: &str = "x-ironroot-organisation";

/// The HTTP client trusting `ca_pem` only, with `identity` for mutual TLS.
fn http_client(ca_pem: &[u8], identity: Option<Identity>) -> Result<reqwest::Client, ClientError> {
    let roots = ironroot_tls::roots_from_pem(ca_pem).map_err(ClientError::Ca)?;
    https_client(roots, identity, TIMEOUT).map_err(|e| match e {
        HttpsError::Tls(e) => ClientError::Identity(e),
        e => ClientError::Setup(e.to_string()),
    })
}

impl Client {
    /// An administrator's client: the service at `server` (checked by
    /// [`admin_base_url`] before anything else), its CA as the only trust anchor, and the
    /// administrator token sent as a bearer token with every request.
    pub fn admin(
        server: &str,
        ca_pem: &[u8],
        token: &str,
        plain_http: PlainHttp,
    ) -> Result<Client, ClientError> {
        let base = admin_base_url(server, plain_http)?;
        let mut client = Client::build(base, ca_pem, None, ADMIN_RESPONSE_LIMIT)?;
        client.token = Some(Arc::new(Zeroizing::new(token.to_owned())));
        Ok(client)
    }

    /// An agent's client: https only, the service CA as the only trust anchor, and,
    /// once enrolled, its client certificate and key (PEM) for mutual TLS.
    pub fn agent(
        server: &str,
        ca_pem: &[u8],
        identity: Option<(&str, &str)>,
    ) -> Result<Client, ClientError> {
        let base = agent_base_url(server)?;
        let identity = identity
            .map(|(cert, key)| Identity::from_pem(cert.as_bytes(), key.as_bytes()))
            .transpose()
            .map_err(ClientError::Identity)?;
        Client::build(base, ca_pem, identity, AGENT_RESPONSE_LIMIT)
    }

    fn build(
        base: String,
        ca_pem: &[u8],
        identity: Option<Identity>,
        limit: usize,
    ) -> Result<Client, ClientError> {
        let http = http_client(ca_pem, identity)?;
        Ok(Client {
            http: Arc::new(RwLock::new(http)),
            ca_pem: ca_pem.into(),
            base,
            token: None,
            organisation: None,
            limit,
        })
    }

    /// Mutual TLS with `cert_pem` and `key_pem` from now on, for this client and every
    /// clone of it (a renewed certificate). Connections already open keep the identity
    /// they were made with until they close.
    pub fn rotate_identity(&self, cert_pem: &str, key_pem: &str) -> Result<(), ClientError> {
        let identity = Identity::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())
            .map_err(ClientError::Identity)?;
        let http = http_client(&self.ca_pem, Some(identity))?;
        // A writer that panicked left a whole client behind: the value is still good.
        *self.http.write().unwrap_or_else(|e| e.into_inner()) = http;
        Ok(())
    }

    fn http(&self) -> reqwest::Client {
        self.http.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The service's base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The same client, acting in `organisation`: for a person bound in several, whose
    /// credential alone does not say which (every request names it).
    pub fn in_organisation(mut self, organisation: &str) -> Client {
        self.organisation = Some(organisation.into());
        self
    }

    /// The same client, reading answers of at most `bytes`.
    pub fn with_response_limit(mut self, bytes: usize) -> Client {
        self.limit = bytes;
        self
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http().request(method, format!("{}{path}", self.base));
        if let Some(org) = &self.organisation {
            req = req.header(ORGANISATION_HEADER, org.as_ref());
        }
        match &self.token {
            Some(t) => req.bearer_auth(t.as_str()),
            None => req,
        }
    }

    /// `GET path`. The typed methods in [`crate::routes`] are the usual way in; this is
    /// for routes whose types live outside `ironroot-api` and for tests that send what
    /// no typed method would.
    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, ClientError> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, ClientError> {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    /// `PUT path` with `body` as JSON.
    pub async fn put<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, ClientError> {
        self.send(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    /// `DELETE path`.
    pub async fn delete<R: DeserializeOwned>(&self, path: &str) -> Result<R, ClientError> {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    async fn send<R: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<R, ClientError> {
        let mut resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, self.limit)
            .await
            .map_err(|e| e.into_client_error(self))?;
        decode(status, &body)
    }

    /// Sends `req` and returns the status and the body (read within the limit), for
    /// routes whose answers are not always JSON (304, CSV).
    pub(crate) async fn send_raw(
        &self,
        req: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, self.limit.max(limit))
            .await
            .map_err(|e| e.into_client_error(self))?;
        Ok((status, body))
    }

    fn unreachable(&self, e: &dyn std::error::Error) -> ClientError {
        ClientError::Unreachable {
            base: self.base.clone(),
            detail: error_chain(e),
        }
    }

    /// Opens the server-sent event stream at `path` (`/v1/events`); with `resume`, the
    /// service first replays the events after that id (`Last-Event-ID`).
    pub async fn event_stream(
        &self,
        path: &str,
        resume: Option<i64>,
    ) -> Result<EventStream, ClientError> {
        let mut req = self
            .request(reqwest::Method::GET, path)
            .timeout(STREAM_TIMEOUT);
        if let Some(id) = resume {
            req = req.header("last-event-id", id.to_string());
        }
        let mut resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let body = read_limited(&mut resp, AGENT_RESPONSE_LIMIT)
                .await
                .map_err(|e| e.into_client_error(self))?;
            return Err(decode::<serde_json::Value>(status, &body).err().unwrap_or(
                ClientError::Status {
                    status: crate::HttpStatus(status),
                },
            ));
        }
        Ok(EventStream {
            resp,
            base: self.base.clone(),
            decoder: SseDecoder::default(),
        })
    }
}

/// An open server-sent event stream.
pub struct EventStream {
    resp: reqwest::Response,
    base: String,
    decoder: SseDecoder,
}

impl EventStream {
    /// The next event of the stream ([`SseDecoder`]: frames up to
    /// [`crate::MAX_EVENT_BYTES`]), or `None` once the stream ended.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent>, ClientError> {
        loop {
            if let Some(event) = self.decoder.next_event()? {
                return Ok(Some(event));
            }
            match self.chunk().await? {
                Some(bytes) => self.decoder.push(&bytes)?,
                None => return Ok(None),
            }
        }
    }

    /// The next bytes of the stream as they arrive, or `None` once it ended. Raw: for
    /// a caller that reads no events with [`EventStream::next_event`] (bytes it has
    /// buffered are not returned here).
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, ClientError> {
        self.resp
            .chunk()
            .await
            .map_err(|e| ClientError::Unreachable {
                base: self.base.clone(),
                detail: error_chain(&e),
            })
    }
}

enum ReadError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

impl ReadError {
    fn into_client_error(self, c: &Client) -> ClientError {
        match self {
            ReadError::Transport(e) => c.unreachable(&e),
            ReadError::TooLarge(limit) => ClientError::TooLarge { limit },
        }
    }
}

/// The whole body, refused as soon as it (or its announced length) passes `limit`.
async fn read_limited(resp: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Body::new(resp.content_length(), limit).map_err(ReadError::TooLarge)?;
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        body.push(&chunk).map_err(ReadError::TooLarge)?;
    }
    Ok(body.bytes)
}

/// An answer's bytes as they arrive, never more than `limit` of them.
struct Body {
    bytes: Vec<u8>,
    limit: usize,
}

impl Body {
    /// Refuses at once an answer announced larger than `limit`; a smaller announced
    /// length is only a capacity hint (the bytes are counted as they come).
    fn new(announced: Option<u64>, limit: usize) -> Result<Body, usize> {
        let announced = announced.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        if announced > limit {
            return Err(limit);
        }
        Ok(Body {
            bytes: Vec::with_capacity(announced),
            limit,
        })
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), usize> {
        if chunk.len() > self.limit - self.bytes.len() {
            return Err(self.limit);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_announced_larger_than_the_limit_is_refused_before_reading() {
        assert_eq!(Body::new(Some(11), 10).err(), Some(10));
        assert!(Body::new(Some(10), 10).is_ok());
        assert!(Body::new(None, 10).is_ok());
    }

    #[test]
    fn an_answer_growing_past_the_limit_is_refused_whatever_it_announced() {
        let mut b = Body::new(Some(2), 10).unwrap();
        b.push(b"12345").unwrap();
        b.push(b"67890").unwrap();
        assert_eq!(b.push(b"x"), Err(10));
        assert_eq!(b.bytes, b"1234567890");
        let mut b = Body::new(None, 4).unwrap();
        assert_eq!(b.push(b"12345"), Err(4));
    }
}
