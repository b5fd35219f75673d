//! `/v1/whoami`, `/v1/organisations`, `/v1/tokens` and `/v1/people`. The gate already
//! checked the role; these handlers keep every credential inside its organisation: an
//! organisation administrator names no other (it reads as not found), the bootstrap
//! credential names any.

use super::access::identity_change;
use super::authn::new_token;
use super::store::TokenRow;
use super::{Grant, Principal};
use crate::error::{ApiJson, ServiceError};
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::Json;
use ironroot_api::{
    IssuedToken, NewOrganisation, NewToken, Organisation, PersonBinding, TokenInfo, Whoami,
    MAX_IDENTITY_FIELD, MAX_TOKEN_LIFETIME_SECS,
};
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn whoami(p: Principal) -> Json<Whoami> {
    Json(Whoami {
        role: p.role(),
        organisation: p.org.clone(),
        actor: p.actor,
    })
}

pub(crate) async fn list_organisations(
    State(st): State<Arc<AppState>>,
    _p: Principal,
) -> Result<Json<Vec<Organisation>>, ServiceError> {
    Ok(Json(st.store.organisations().await?))
}

pub(crate) async fn create_organisation(
    State(st): State<Arc<AppState>>,
    p: Principal,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> Result<Json<Organisation>, ServiceError> {
    if !crate::hub::is_dns_label(&req.id) {
        return Err(ServiceError::BadRequest(
            "an organisation id is a DNS label: 1-63 of a-z, 0-9 and '-'".into(),
        ));
    }
    let at = now();
    let entry = identity_change(
        "organisation.created",
        at,
        &p.actor,
        format!("organisation/{}", req.id),
        json!({ "organisation": req.id }),
    );
    if !st.store.create_organisation(&req.id, at, entry).await? {
        return Err(ServiceError::Conflict(format!(
            "organisation {} exists",
            req.id
        )));
    }
    Ok(Json(Organisation {
        id: req.id,
        created: at,
    }))
}

/// The organisation a request acts in: the caller's own, or for the bootstrap
/// credential the one it names (`default` when it names none). Another organisation
/// than the caller's reads as not found.
async fn acting_org(
    st: &AppState,
    p: &Principal,
    named: Option<String>,
) -> Result<String, ServiceError> {
    let org = match (&p.org, named) {
        (Some(own), Some(n)) if *own != n => {
            return Err(ServiceError::NotFound(format!("organisation {n}")))
        }
        (Some(own), _) => own.clone(),
        (None, n) => n.unwrap_or_else(|| super::DEFAULT_ORG.to_owned()),
    };
    if !st.store.organisation_exists(&org).await? {
        return Err(ServiceError::NotFound(format!("organisation {org}")));
    }
    Ok(org)
}

fn check_field(what: &str, v: &str) -> Result<(), ServiceError> {
    if v.is_empty() || v.len() > MAX_IDENTITY_FIELD || v.chars().any(char::is_control) {
        return Err(ServiceError::BadRequest(format!(
            "{what} must be 1-{MAX_IDENTITY_FIELD} printable characters"
        )));
    }
    Ok(())
}

pub(crate) async fn list_tokens(
    State(st): State<Arc<AppState>>,
    p: Principal,
) -> Result<Json<Vec<TokenInfo>>, ServiceError> {
    Ok(Json(st.store.tokens(p.org.as_deref()).await?))
}

pub(crate) async fn create_token(
    State(st): State<Arc<AppState>>,
    p: Principal,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<Json<IssuedToken>, ServiceError> {
    check_field("a token's name", &req.name)?;
    if req.lifetime_secs == 0 || req.lifetime_secs > MAX_TOKEN_LIFETIME_SECS {
        return Err(ServiceError::BadRequest(format!(
            "a token lives 1 s to {MAX_TOKEN_LIFETIME_SECS} s (a year); renew it before it expires"
        )));
    }
    let org = acting_org(&st, &p, req.organisation).await?;
    let secret = new_token().map_err(|e| ServiceError::Internal(e.to_string()))?;
    let at = now();
    let info = TokenInfo {
        id: secret.id.clone(),
        name: req.name,
        role: req.role,
        organisation: org,
        created: at,
        created_by: p.actor.clone(),
        expires: at.saturating_add(req.lifetime_secs),
        revoked_at: None,
    };
    let entry = identity_change(
        "token.created",
        at,
        &p.actor,
        format!("token/{}", info.id),
        json!({
            "token_id": info.id,
            "name": info.name,
            "role": info.role.as_str(),
            "organisation": info.organisation,
            "expires": info.expires,
        }),
    );
    let row = TokenRow {
        info: info.clone(),
        secret_sha256: secret.secret_sha256,
    };
    st.store.insert_token(&row, entry).await?;
    tracing::info!(token_id = %info.id, role = %info.role, org = %info.organisation, by = %p.actor, "API token issued");
    Ok(Json(IssuedToken {
        token: secret.token.to_string(),
        info,
    }))
}

pub(crate) async fn revoke_token(
    State(st): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("token {id}"));
    let token = st.store.token(&id).await?.ok_or_else(not_found)?;
    if !p.sees(&token.info.organisation) {
        return Err(not_found());
    }
    let at = now();
    let entry = identity_change(
        "token.revoked",
        at,
        &p.actor,
        format!("token/{id}"),
        json!({ "token_id": id, "organisation": token.info.organisation }),
    );
    if !st.store.revoke_token(&id, at, entry).await? {
        return Err(ServiceError::Conflict(format!(
            "token {id} is already revoked"
        )));
    }
    Ok(Json(json!({ "revoked": id })))
}

pub(crate) async fn list_people(
    State(st): State<Arc<AppState>>,
    p: Principal,
) -> Result<Json<Vec<PersonBinding>>, ServiceError> {
    let people = st.store.people(p.org.as_deref()).await?;
    Ok(Json(
        people
            .into_iter()
            .map(|(email, org, role)| PersonBinding {
                email,
                role,
                organisation: Some(org),
            })
            .collect(),
    ))
}

pub(crate) async fn bind_person(
    State(st): State<Arc<AppState>>,
    p: Principal,
    ApiJson(req): ApiJson<PersonBinding>,
) -> Result<Json<PersonBinding>, ServiceError> {
    check_field("an e-mail address", &req.email)?;
    if !req.email.contains('@') {
        return Err(ServiceError::BadRequest(
            "a person is bound by the e-mail address of their ID token".into(),
        ));
    }
    let email = req.email.to_ascii_lowercase();
    let org = acting_org(&st, &p, req.organisation).await?;
    let at = now();
    let entry = identity_change(
        "person.bound",
        at,
        &p.actor,
        format!("person/{email}"),
        json!({ "email": email, "organisation": org, "role": req.role.as_str() }),
    );
    st.store
        .bind_person(&email, &org, req.role, at, &p.actor, entry)
        .await?;
    Ok(Json(PersonBinding {
        email,
        role: req.role,
        organisation: Some(org),
    }))
}

pub(crate) async fn unbind_person(
    State(st): State<Arc<AppState>>,
    p: Principal,
    Path(email): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let email = email.to_ascii_lowercase();
    // The bootstrap credential unbinds the person from every organisation; an
    // organisation administrator from its own only.
    let orgs: Vec<String> = match (&p.grant, &p.org) {
        (Grant::Bootstrap(_), _) | (_, None) => st
            .store
            .person(&email)
            .await?
            .into_iter()
            .map(|(o, _)| o)
            .collect(),
        (_, Some(own)) => vec![own.clone()],
    };
    let mut removed = 0;
    for org in orgs {
        let entry = identity_change(
            "person.unbound",
            now(),
            &p.actor,
            format!("person/{email}"),
            json!({ "email": email, "organisation": org }),
        );
        if st.store.unbind_person(&email, &org, entry).await? {
            removed += 1;
        }
    }
    if removed == 0 {
        return Err(ServiceError::NotFound(format!("person {email}")));
    }
    Ok(Json(json!({ "unbound": email, "organisations": removed })))
}
