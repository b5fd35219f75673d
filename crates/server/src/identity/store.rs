//! The rows of `0013_identity.sql`: organisations, API tokens, people and the owners of
//! objects. Each write that grants or takes away access appends its audit entry in the
//! same transaction.

use crate::audit::{self, NewEntry};
use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_api::{Organisation, Role, TokenInfo};
use sqlx::Row;

/// A stored token: what the gate needs to decide, and the hash to compare.
#[derive(Debug, Clone)]
pub(crate) struct TokenRow {
    pub info: TokenInfo,
    pub secret_sha256: Vec<u8>,
}

/// Kinds of objects that belong to an organisation (`owners.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Host,
    Key,
    Cluster,
    /// A flavor group (by name); its flavors belong with it.
    Group,
    /// An alert sink (by name).
    Sink,
}

impl ObjectKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Host => "host",
            ObjectKind::Key => "key",
            ObjectKind::Cluster => "cluster",
            ObjectKind::Group => "group",
            ObjectKind::Sink => "sink",
        }
    }
}

fn role_of(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown role {s:?}")))
}

fn token_from(r: &sqlx::any::AnyRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        info: TokenInfo {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            role: role_of(&r.try_get::<String, _>("role")?)?,
            organisation: r.try_get("org")?,
            created: to_u64(r.try_get("created")?),
            created_by: r.try_get("created_by")?,
            expires: to_u64(r.try_get("expires")?),
            revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(to_u64),
        },
        secret_sha256: r.try_get("secret_sha256")?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, secret_sha256, name, org, role, created, created_by, expires, revoked_at";

impl Store {
    pub(crate) async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query("SELECT id, created FROM organisations ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: r.try_get("id")?,
                    created: to_u64(r.try_get("created")?),
                })
            })
            .collect()
    }

    pub(crate) async fn organisation_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .is_some())
    }

    /// Creates an organisation; `false` when one of that id exists.
    pub(crate) async fn create_organisation(
        &self,
        id: &str,
        at: u64,
        entry: NewEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO organisations (id, created) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(to_i64(at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        audit::audited(tx, done, entry).await
    }

    pub(crate) async fn insert_token(
        &self,
        t: &TokenRow,
        entry: NewEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"
        ))
        .bind(t.info.id.as_str())
        .bind(t.secret_sha256.clone())
        .bind(t.info.name.as_str())
        .bind(t.info.organisation.as_str())
        .bind(t.info.role.as_str())
        .bind(to_i64(t.info.created))
        .bind(t.info.created_by.as_str())
        .bind(to_i64(t.info.expires))
        .execute(&mut *tx)
        .await?;
        audit::audited(tx, true, entry).await?;
        Ok(())
    }

    pub(crate) async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(token_from)
        .transpose()
    }

    /// The tokens of `org`, or of every organisation.
    pub(crate) async fn tokens(&self, org: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
        // Two texts: PostgreSQL cannot type a parameter that is only compared with NULL.
        let rows = match org {
            Some(org) => {
                sqlx::query(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE org = $1 ORDER BY created, id"
                ))
                .bind(org)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created, id"
                ))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(|r| Ok(token_from(r)?.info)).collect()
    }

    /// Revokes a token; `false` when it does not exist or was already revoked.
    pub(crate) async fn revoke_token(
        &self,
        id: &str,
        at: u64,
        entry: NewEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(to_i64(at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        audit::audited(tx, done, entry).await
    }

    /// The bindings of `email`: one per organisation it may sign in to.
    pub(crate) async fn person(&self, email: &str) -> Result<Vec<(String, Role)>, StoreError> {
        let rows = sqlx::query("SELECT org, role FROM people WHERE email = $1 ORDER BY org")
            .bind(email)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("org")?,
                    role_of(&r.try_get::<String, _>("role")?)?,
                ))
            })
            .collect()
    }

    /// People of `org`, or of every organisation: (email, org, role).
    pub(crate) async fn people(
        &self,
        org: Option<&str>,
    ) -> Result<Vec<(String, String, Role)>, StoreError> {
        let rows = match org {
            Some(org) => {
                sqlx::query(
                    "SELECT email, org, role FROM people WHERE org = $1 ORDER BY org, email",
                )
                .bind(org)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query("SELECT email, org, role FROM people ORDER BY org, email")
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("email")?,
                    r.try_get("org")?,
                    role_of(&r.try_get::<String, _>("role")?)?,
                ))
            })
            .collect()
    }

    pub(crate) async fn bind_person(
        &self,
        email: &str,
        org: &str,
        role: Role,
        at: u64,
        by: &str,
        entry: NewEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO people (email, org, role, added, added_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (email, org) DO UPDATE SET role = $3, added = $4, added_by = $5",
        )
        .bind(email)
        .bind(org)
        .bind(role.as_str())
        .bind(to_i64(at))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        audit::audited(tx, true, entry).await?;
        Ok(())
    }

    pub(crate) async fn unbind_person(
        &self,
        email: &str,
        org: &str,
        entry: NewEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM people WHERE email = $1 AND org = $2")
            .bind(email)
            .bind(org)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        audit::audited(tx, done, entry).await
    }

    /// The organisation `id` of `kind` belongs to (`default` when it has no row).
    pub(crate) async fn owner(&self, kind: ObjectKind, id: &str) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT org FROM owners WHERE kind = $1 AND id = $2")
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(r.try_get("org")?),
            None => Ok(super::DEFAULT_ORG.to_owned()),
        }
    }

    /// Whether `a` and `b` belong to the same organisation, in one query (the key
    /// release path asks it for every release).
    pub(crate) async fn same_owner(
        &self,
        a: (ObjectKind, &str),
        b: (ObjectKind, &str),
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE((SELECT org FROM owners WHERE kind = $1 AND id = $2), $5) AS a, \
                    COALESCE((SELECT org FROM owners WHERE kind = $3 AND id = $4), $5) AS b",
        )
        .bind(a.0.as_str())
        .bind(a.1)
        .bind(b.0.as_str())
        .bind(b.1)
        .bind(super::DEFAULT_ORG)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<String, _>("a")? == row.try_get::<String, _>("b")?)
    }

    /// Every owner row of `kind`: (id, org).
    pub(crate) async fn owners(
        &self,
        kind: ObjectKind,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT id, org FROM owners WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("org")?)))
            .collect()
    }

    /// Gives `id` of `kind` to `org`. Called before the object is created, so that a
    /// failure in between leaves an owner without an object, never an object in the
    /// wrong organisation.
    pub(crate) async fn set_owner(
        &self,
        kind: ObjectKind,
        id: &str,
        org: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO owners (kind, id, org) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, id) DO UPDATE SET org = $3",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(org)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// [`Store::set_owner`] by an administrator's decision, recorded in the audit trail.
    pub(crate) async fn change_owner(
        &self,
        kind: ObjectKind,
        id: &str,
        org: &str,
        entry: NewEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO owners (kind, id, org) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, id) DO UPDATE SET org = $3",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(org)
        .execute(&mut *tx)
        .await?;
        if kind == ObjectKind::Host {
            // The host's open alerts go with it: its new organisation is the one to see
            // and answer them (a cluster's remediation, its return to trust), and the old
            // one no longer hears of a host that is not its own.
            sqlx::query("UPDATE alerts SET org = $1 WHERE subject = $2 AND state <> 'resolved'")
                .bind(org)
                .bind(format!("host/{id}"))
                .execute(&mut *tx)
                .await?;
        }
        audit::audited(tx, true, entry).await?;
        Ok(())
    }
}
