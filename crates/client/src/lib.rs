//! The one client of the ironroot service's REST API, used by the agent, the key
//! provider, the `ironroot` command, the load generator, the end-to-end tests and the
//! Kubernetes controller.
//!
//! - **https only**: an administrator's token goes to `https://` URLs, and to plain
//!   `http://` only on a loopback address with `--insecure-http-loopback` ([`url`]); an
//!   agent uses `https://` only. TLS configurations come from `ironroot-tls`.
//! - **two ways in**: [`Client::admin`] (bearer token) and [`Client::agent`] (mutual TLS
//!   with the certificate enrollment issued).
//! - **typed routes**: a method per route with the `ironroot-api` types ([`routes`]).
//! - **one decoder**: every non-2xx answer becomes [`ClientError::Api`] carrying the
//!   service's [`ironroot_api::ApiError`] (its stable kind and message), or
//!   [`ClientError::Status`] when the body is not one; answers are read within a size limit.
//! - **one event-stream decoder**: [`EventStream::next_event`] ([`SseDecoder`]), for every
//!   follower of `GET /v1/events` (the CLI's `host watch`, the controller, the tests).
//! - **one HTTPS setup**: [`https_client`], also for the other HTTPS peers ironroot calls
//!   (OpenID Connect providers, webhook sinks), and one rule for plain `http://`
//!   ([`url::is_loopback_literal`]).
//!
//! It must never send the administrator token anywhere [`url::admin_base_url`] refused,
//! follow a redirect, trust a CA other than the service's, or depend on the CLI.

#![forbid(unsafe_code)]

mod alerts;
mod audit;
mod client;
mod csr;
mod error;
mod governance;
pub mod https;
mod identity;
pub mod routes;
mod sse;
pub mod url;

pub use alerts::AlertQuery;
pub use client::{Client, EventStream, ADMIN_RESPONSE_LIMIT, AGENT_RESPONSE_LIMIT};
pub use csr::new_key_and_csr;
pub use error::{decode, error_chain, printable, ClientError, HttpStatus};
pub use governance::{bundle_etag, HistoryQuery, BUNDLE_RESPONSE_LIMIT};
pub use https::{https_client, HttpsError};
pub use identity::OwnedKind;
pub use routes::admin::ReportRange;
pub use routes::path_segment;
pub use sse::{SseDecoder, SseEvent, MAX_EVENT_BYTES};
pub use url::{admin_base_url, agent_base_url, AdminUrlError, PlainHttp};
