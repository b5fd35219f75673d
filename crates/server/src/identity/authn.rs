//! Who is calling: one bearer credential or a cluster's certificate, checked before any
//! body is read. Refusals say why in the service's log (never with the credential) and
//! answer the same 401 whatever the reason, so a caller learns nothing from it.

use super::store::TokenRow;
use super::{BootstrapMode, Grant, Principal};
use crate::store::StoreError;
use crate::tls::PeerIdentity;
use crate::AppState;
use axum::http::HeaderMap;
use base64::Engine as _;
use ironroot_crypto::{constant_time_eq, digest, HashAlg};

/// API tokens are `irt_<16 hex id>_<43 base64url secret>`: recognisable in a leaked
/// log or a secret scanner, and looked up by id before the secret is compared.
const TOKEN_PREFIX: &str = "irt_";
const TOKEN_ID_LEN: usize = 16;
const TOKEN_SECRET_BYTES: usize = 32;
/// The header a person bound in several organisations names one with.
pub(crate) const ORG_HEADER: &str = "x-ironroot-organisation";

/// Why a credential was refused (for the log and the audit trail; the caller sees 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    #[error("no credential")]
    Missing,
    #[error("malformed Authorization header")]
    Malformed,
    #[error("the bootstrap token is turned off")]
    BootstrapOff,
    #[error("unknown token")]
    UnknownToken,
    #[error("token {0} was revoked")]
    Revoked(String),
    #[error("token {0} expired")]
    Expired(String),
    #[error("ID token refused: {0}")]
    IdToken(String),
    #[error("{0} is not bound to an organisation")]
    NoBinding(String),
    #[error(
        "{0} is bound to several organisations: name one in X-Ironroot-Organisation \
         (ironroot --acting-org ORG)"
    )]
    WhichOrganisation(String),
    #[error("the certificate is not a registered cluster's current one")]
    UnknownCluster,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthnError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A fresh token: its id, the string handed out once, and the hash kept.
pub(crate) struct NewSecret {
    pub id: String,
    pub token: zeroize::Zeroizing<String>,
    pub secret_sha256: Vec<u8>,
}

pub(crate) fn new_token() -> Result<NewSecret, ironroot_crypto::CryptoError> {
    let id = hex::encode(ironroot_crypto::random_bytes(TOKEN_ID_LEN / 2)?);
    let secret = zeroize::Zeroizing::new(ironroot_crypto::random_bytes(TOKEN_SECRET_BYTES)?);
    let encoded =
        zeroize::Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&*secret));
    Ok(NewSecret {
        token: zeroize::Zeroizing::new(format!("{TOKEN_PREFIX}{id}_{}", encoded.as_str())),
        secret_sha256: digest(HashAlg::Sha256, encoded.as_bytes()),
        id,
    })
}

/// The bearer credential of `headers`: exactly one Authorization header, scheme
/// `Bearer` in any case (RFC 7235), the credential untrimmed.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refused> {
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refused::Malformed);
    }
    let value = value.to_str().map_err(|_| Refused::Malformed)?;
    let (scheme, credential) = value.split_once(' ').ok_or(Refused::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.is_empty() {
        return Err(Refused::Malformed);
    }
    Ok(Some(credential))
}

/// The caller of a request, or why it is refused. `Ok(None)` when it presented nothing.
pub(crate) async fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
    peer: Option<&PeerIdentity>,
) -> Result<Option<Principal>, AuthnError> {
    if let Some(credential) = bearer(headers)? {
        return Ok(Some(from_bearer(st, headers, credential).await?));
    }
    match crate::hub::authenticate(st, peer).await? {
        Some(c) => {
            let org = st
                .store
                .owner(super::store::ObjectKind::Cluster, &c.id)
                .await?;
            Ok(Some(Principal {
                actor: format!("cluster/{}", c.id),
                org: Some(org),
                grant: Grant::Cluster,
            }))
        }
        None if matches!(peer, Some(PeerIdentity(Some(_)))) => Err(Refused::UnknownCluster.into()),
        None => Ok(None),
    }
}

async fn from_bearer(
    st: &AppState,
    headers: &HeaderMap,
    credential: &str,
) -> Result<Principal, AuthnError> {
    if !st.admin_token.is_empty()
        && constant_time_eq(credential.as_bytes(), st.admin_token.as_bytes())
    {
        if st.config.bootstrap_token == BootstrapMode::Off {
            return Err(Refused::BootstrapOff.into());
        }
        return Ok(Principal {
            actor: "bootstrap".into(),
            org: None,
            grant: Grant::Bootstrap(st.config.bootstrap_token),
        });
    }
    if let Some(rest) = credential.strip_prefix(TOKEN_PREFIX) {
        return api_token(st, rest).await;
    }
    if credential.matches('.').count() == 2 {
        return person(st, headers, credential).await;
    }
    Err(Refused::UnknownToken.into())
}

async fn api_token(st: &AppState, rest: &str) -> Result<Principal, AuthnError> {
    let (id, secret) = rest.split_once('_').ok_or(Refused::UnknownToken)?;
    if id.len() != TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refused::UnknownToken.into());
    }
    let Some(TokenRow {
        info,
        secret_sha256,
    }) = st.store.token(id).await?
    else {
        return Err(Refused::UnknownToken.into());
    };
    if !constant_time_eq(&digest(HashAlg::Sha256, secret.as_bytes()), &secret_sha256) {
        return Err(Refused::UnknownToken.into());
    }
    if info.revoked_at.is_some() {
        return Err(Refused::Revoked(info.id).into());
    }
    if crate::now() >= info.expires {
        return Err(Refused::Expired(info.id).into());
    }
    Ok(Principal {
        actor: format!("token/{}", info.id),
        org: Some(info.organisation),
        grant: Grant::Role(info.role),
    })
}

/// A person: an ID token of the configured provider with a verified e-mail address that
/// an organisation bound to a role.
async fn person(st: &AppState, headers: &HeaderMap, token: &str) -> Result<Principal, AuthnError> {
    let Some(provider) = &st.oidc else {
        return Err(Refused::UnknownToken.into());
    };
    let id = provider.verify(token).await.map_err(Refused::IdToken)?;
    let email = match (id.email, id.email_verified) {
        (Some(e), Some(true)) => e.to_ascii_lowercase(),
        _ => {
            return Err(Refused::IdToken(
                "the ID token has no verified e-mail address (scope email)".into(),
            )
            .into())
        }
    };
    let bindings = st.store.person(&email).await?;
    let wanted = headers.get(ORG_HEADER).and_then(|v| v.to_str().ok());
    let (org, role) = match (wanted, bindings.as_slice()) {
        (_, []) => return Err(Refused::NoBinding(email).into()),
        (None, [one]) => one.clone(),
        (None, _) => return Err(Refused::WhichOrganisation(email).into()),
        (Some(w), all) => all
            .iter()
            .find(|(o, _)| o == w)
            .cloned()
            .ok_or_else(|| Refused::NoBinding(email.clone()))?,
    };
    Ok(Principal {
        actor: format!("person/{email}"),
        org: Some(org),
        grant: Grant::Role(role),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_recognisable_and_only_its_hash_is_kept() {
        let t = new_token().unwrap();
        let rest = t.token.strip_prefix(TOKEN_PREFIX).unwrap();
        let (id, secret) = rest.split_once('_').unwrap();
        assert_eq!(id, t.id);
        assert_eq!(id.len(), TOKEN_ID_LEN);
        assert_eq!(secret.len(), 43);
        assert_eq!(t.secret_sha256, digest(HashAlg::Sha256, secret.as_bytes()));
        assert_ne!(new_token().unwrap().id, t.id);
    }

    #[test]
    fn the_bearer_is_one_header_with_the_scheme_in_any_case() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), Ok(None));
        h.insert("authorization", "bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Ok(Some("abc")));
        h.append("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Err(Refused::Malformed));
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc"] {
            let mut h = HeaderMap::new();
            h.insert("authorization", bad.parse().unwrap());
            assert_eq!(bearer(&h), Err(Refused::Malformed), "{bad}");
        }
    }
}
