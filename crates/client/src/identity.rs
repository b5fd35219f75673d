//! People, API tokens, organisations and owners (docs/identity.md): who the caller is,
//! and the routes an organisation administrator (or the bootstrap token) manages them
//! with. The secret of a new API token is in [`IssuedToken`] once; listings never hold it.

use crate::routes::path_segment;
use crate::{Client, ClientError};
use ironroot_api::{
    IssuedToken, NewOrganisation, NewToken, Organisation, PersonBinding, TokenInfo, Whoami,
};
use serde_json::Value;

/// The kinds of object `PUT /v1/owners/{kind}/{id}` hands to an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedKind {
    Host,
    Key,
    Cluster,
}

impl OwnedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnedKind::Host => "host",
            OwnedKind::Key => "key",
            OwnedKind::Cluster => "cluster",
        }
    }
}

impl Client {
    /// `GET /v1/whoami`: the caller as the service sees it.
    pub async fn whoami(&self) -> Result<Whoami, ClientError> {
        self.get("/v1/whoami").await
    }

    /// `GET /v1/organisations`.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, ClientError> {
        self.get("/v1/organisations").await
    }

    /// `POST /v1/organisations` (the bootstrap token only).
    pub async fn create_organisation(&self, id: &str) -> Result<Organisation, ClientError> {
        self.post("/v1/organisations", &NewOrganisation { id: id.to_owned() })
            .await
    }

    /// `GET /v1/tokens`: the API tokens of the caller's organisation, without secrets.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, ClientError> {
        self.get("/v1/tokens").await
    }

    /// `POST /v1/tokens`: the answer holds the secret, shown this once.
    pub async fn create_token(&self, req: &NewToken) -> Result<IssuedToken, ClientError> {
        self.post("/v1/tokens", req).await
    }

    /// `DELETE /v1/tokens/{id}`.
    pub async fn revoke_token(&self, id: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/tokens/{}", path_segment(id)))
            .await
    }

    /// `GET /v1/people`: who may sign in with OpenID Connect, with which role.
    pub async fn people(&self) -> Result<Vec<PersonBinding>, ClientError> {
        self.get("/v1/people").await
    }

    /// `PUT /v1/people`: binds the e-mail address to a role (replacing its role there).
    pub async fn bind_person(&self, req: &PersonBinding) -> Result<PersonBinding, ClientError> {
        self.put("/v1/people", req).await
    }

    /// `DELETE /v1/people/{email}`.
    pub async fn unbind_person(&self, email: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/people/{}", path_segment(email)))
            .await
    }

    /// `PUT /v1/owners/{kind}/{id}`: gives the object to organisation `org` (the bootstrap
    /// token only).
    pub async fn set_owner(
        &self,
        kind: OwnedKind,
        id: &str,
        org: &str,
    ) -> Result<Value, ClientError> {
        self.put(
            &format!("/v1/owners/{}/{}", kind.as_str(), path_segment(id)),
            &NewOrganisation { id: org.to_owned() },
        )
        .await
    }
}
