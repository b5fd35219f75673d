//! Signing people in with OpenID Connect: ironroot is the relying party.
//!
//! - [`Provider::discover`] reads the issuer's metadata (`/.well-known/openid-configuration`,
//!   size-limited, its `issuer` equal to the one configured) and its JSON Web Key Set, and
//!   keeps the keys, fetching them again (rate-limited) when a token names an unknown key.
//! - [`verify_id_token`] is the pure check, with no I/O: compact JWS within size limits, the
//!   algorithm from an allow list (RS256 and ES256; never `none`, never HMAC), the signature
//!   through `ironroot-crypto`, then `iss` exactly, `aud` holding our client id (and `azp`
//!   when there are several audiences), `exp`/`nbf`/`iat` with a clock skew of at most five
//!   minutes, and the nonce. Each refusal is a [`VerifyError`] naming the check that failed.
//! - [`Provider::exchange_code`] ends a browser sign-in (Authorization Code with PKCE): the
//!   code goes to the token endpoint, the answer is read with a size limit, and its ID
//!   token is verified with the sign-in's nonce.
//!
//! This crate must never accept a token whose signature it did not check, follow a key URL
//! a token names (`jku`, `x5u`, `jwk`), fetch over plain HTTP from anything but a loopback
//! address, or log a token.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod claims;
mod code;
mod discovery;
mod issuer;
mod jwks;
mod provider;
mod token;
mod verify;

pub use claims::{ClockSkew, Expectations, IdToken, SkewTooLarge};
pub use code::{CodeError, MAX_CODE_BYTES, MAX_NONCE_BYTES, MAX_TOKEN_RESPONSE_BYTES};
pub use discovery::{DiscoveryError, ProviderMetadata, MAX_METADATA_BYTES};
pub use ironroot_crypto::JwsAlgorithm;
pub use issuer::{check_endpoint, check_issuer, discovery_url, UrlError};
pub use jwks::{JwksError, KeySet, MAX_JWKS_BYTES};
pub use provider::{CodeGrant, OidcError, Provider, ProviderConfig, SignedIn};
pub use token::MAX_TOKEN_BYTES;
pub use verify::{verify_id_token, VerifyError, ALLOWED_ALGORITHMS};
