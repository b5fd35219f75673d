//! People, API tokens and organisations on the wire (docs/identity.md).
//!
//! Routes (each behind the role the service's rule table names):
//! * `GET /v1/whoami`: the caller's identity ([`Whoami`]).
//! * `GET|POST /v1/organisations`: list, or create ([`NewOrganisation`]; platform only).
//! * `GET|POST /v1/tokens`, `DELETE /v1/tokens/{id}`: API tokens of an organisation
//!   ([`NewToken`] in, [`IssuedToken`] out once; [`TokenInfo`] never holds the secret).
//! * `GET|PUT /v1/people`, `DELETE /v1/people/{email}`: who may sign in with OpenID
//!   Connect, with which role, in which organisation ([`PersonBinding`]).

use serde::{Deserialize, Serialize};

/// What a credential may do inside its organisation. Each role is a fixed set of
/// permissions (the service's rule table); there are no custom roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads hosts, flavors, keys' metadata, images, alerts, clusters and policies.
    Viewer,
    /// A viewer who also manages hosts, flavors, groups, tags, Node bindings, clusters
    /// and alerts.
    Operator,
    /// A viewer who also writes policies, image inventories, alert sinks and alerts.
    SecurityAdmin,
    /// A viewer who also creates keys and wraps with them.
    KeyAdmin,
    /// A viewer who also reads the audit trail and exports it.
    Auditor,
    /// Wraps image keys and submits image inventories, nothing else: the key provider
    /// of a build host.
    Build,
    /// Everything in its organisation, including its tokens and people.
    OrgAdmin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Viewer,
        Role::Operator,
        Role::SecurityAdmin,
        Role::KeyAdmin,
        Role::Auditor,
        Role::Build,
        Role::OrgAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::SecurityAdmin => "security-admin",
            Role::KeyAdmin => "key-admin",
            Role::Auditor => "auditor",
            Role::Build => "build",
            Role::OrgAdmin => "org-admin",
        }
    }

    /// The role named `s` (the names of [`Role::as_str`]).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest organisation id, token name or e-mail address accepted.
pub const MAX_IDENTITY_FIELD: usize = 254;
/// The longest lifetime of an API token: a year. Automation renews its tokens.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// Who the caller is, as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whoami {
    /// The audit trail's name for the caller: `bootstrap`, `token/<id>`,
    /// `person/<email>`, `cluster/<id>`.
    pub actor: String,
    /// The caller's organisation; `None` for the bootstrap credential, which is above them.
    pub organisation: Option<String>,
    /// `None` for the bootstrap credential and for clusters.
    pub role: Option<Role>,
}

/// `POST /v1/organisations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// A DNS label: 1-63 of `a-z0-9-`.
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: String,
    pub created: u64,
}

/// `POST /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for (`ci-builder-eu`); shown in listings and the audit trail.
    pub name: String,
    pub role: Role,
    /// Defaults to the caller's organisation; only the bootstrap credential names another.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Lifetime in seconds, at most [`MAX_TOKEN_LIFETIME_SECS`].
    pub lifetime_secs: u64,
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub organisation: String,
    pub created: u64,
    pub created_by: String,
    pub expires: u64,
    pub revoked_at: Option<u64>,
}

/// `POST /v1/tokens` answers the secret once; the service keeps only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
    pub info: TokenInfo,
}

/// `PUT /v1/people`: a person who signs in with OpenID Connect, by the verified e-mail
/// address of their ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBinding {
    pub email: String,
    pub role: Role,
    /// Defaults to the caller's organisation; only the bootstrap credential names another.
    #[serde(default)]
    pub organisation: Option<String>,
}
