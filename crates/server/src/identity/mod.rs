//! People, API tokens, organisations and roles (docs/identity.md).
//!
//! Every route of the administration API passes `gate::principal`, which
//! 1. authenticates the caller ([`authn`]): the bootstrap token, an API token (stored as
//!    the SHA-256 of its secret; expiry and revocation checked on every request), an
//!    OpenID Connect ID token of a person bound to a role, or a registered cluster's
//!    certificate;
//! 2. finds the route's rule ([`rules`]) and decides with the caller's role;
//! 3. records the decision, allowed or denied, in the audit trail ([`access`]) and only
//!    then lets the handler run; a decision that cannot be recorded refuses the request.
//!
//! Handlers take a [`Principal`] as an extractor: a route moved out of the gate fails
//! closed (401) instead of serving anyone.

pub(crate) mod access;
pub(crate) mod authn;
pub(crate) mod oidc;
#[cfg(test)]
mod org_alerts_tests;
#[cfg(test)]
mod org_audit_tests;
#[cfg(test)]
mod org_flavors_tests;
#[cfg(test)]
mod org_images_tests;
#[cfg(test)]
mod org_policies_tests;
#[cfg(test)]
mod org_tests;
pub(crate) mod routes;
pub(crate) mod rules;
#[cfg(test)]
mod rules_tests;
pub(crate) mod scope;
pub(crate) mod sign_in;
pub(crate) mod store;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;

use crate::error::ServiceError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ironroot_api::Role;

/// The organisation of what existed before organisations did.
pub(crate) const DEFAULT_ORG: &str = "default";

/// How far the bootstrap token (`admin.token`) reaches (`--bootstrap-token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BootstrapMode {
    /// Every permission in every organisation: for a first start and for tests.
    #[default]
    Full,
    /// Only organisations, tokens and people: enough to make the first administrators.
    BootstrapOnly,
    /// Refused: people and API tokens only.
    Off,
}

/// What the caller was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    Bootstrap(BootstrapMode),
    Role(Role),
    /// A registered cluster (its certificate): what `rules::cluster_may` allows.
    Cluster,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    /// The audit trail's name for it: `bootstrap`, `token/<id>`, `person/<email>`,
    /// `cluster/<id>`.
    pub actor: String,
    /// `None` for the bootstrap credential, which stands above organisations.
    pub org: Option<String>,
    pub grant: Grant,
}

impl Principal {
    /// Whether this caller may act on an object of organisation `org`.
    pub(crate) fn sees(&self, org: &str) -> bool {
        self.org.as_deref().is_none_or(|own| own == org)
    }

    /// The organisation objects it creates belong to.
    pub(crate) fn home_org(&self) -> &str {
        self.org.as_deref().unwrap_or(DEFAULT_ORG)
    }

    /// Who made a change that also states a name (`by` of a policy change or an alert
    /// action): the authenticated actor always, and the stated name after it when it
    /// says something else, so that nobody can record a change as someone else's.
    pub(crate) fn by(&self, stated: &str) -> String {
        let stated = stated.trim();
        if stated.is_empty() || stated == self.actor {
            self.actor.clone()
        } else {
            format!("{} ({stated})", self.actor)
        }
    }

    pub(crate) fn role(&self) -> Option<Role> {
        match self.grant {
            Grant::Role(r) => Some(r),
            _ => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ServiceError::Unauthenticated)
    }
}

/// Whether `p` may call the route of `rule` (the tests' question; the gate asks [`decide`]).
#[cfg(test)]
pub(crate) fn may(p: &Principal, rule: &rules::Rule) -> bool {
    decide(p, rule).is_ok()
}

/// [`may`], with the reason of a refusal. Which organisation's objects the caller then
/// sees is each handler's business ([`scope`]): another organisation's reads as not found.
pub(crate) fn decide(p: &Principal, rule: &rules::Rule) -> Result<(), String> {
    let refused = || format!("{} may not {} {}", p.describe(), rule.method, rule.path);
    let allowed = match &p.grant {
        Grant::Bootstrap(BootstrapMode::Full) => true,
        Grant::Bootstrap(BootstrapMode::BootstrapOnly) => rules::bootstrap_only_may(rule.needs),
        Grant::Bootstrap(BootstrapMode::Off) => false,
        Grant::Role(role) => rules::role_may(*role, rule.needs),
        Grant::Cluster => rules::cluster_may(rule),
    };
    if allowed {
        Ok(())
    } else {
        Err(refused())
    }
}

impl Principal {
    /// How a refusal names the caller: `token/… (build in acme)`.
    pub(crate) fn describe(&self) -> String {
        match (&self.grant, &self.org) {
            (Grant::Role(r), Some(org)) => format!("{} ({r} in {org})", self.actor),
            (Grant::Bootstrap(BootstrapMode::BootstrapOnly), _) => {
                "the bootstrap token (bootstrap-only: organisations, tokens and people)".into()
            }
            _ => self.actor.clone(),
        }
    }
}
