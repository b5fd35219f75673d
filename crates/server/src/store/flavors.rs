//! Flavors and flavor groups. A group belongs to an organisation (`owners`, kind
//! `group`; no row: `default`'s) and its flavors with it: an organisation's hosts are
//! judged by its own groups, and sees and changes only those.

use super::{to_i64, to_u64, Store, StoreError};
use crate::identity::DEFAULT_ORG;
use sqlx::Row;

/// What writing a group by name did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupPut {
    Created,
    Replaced,
    /// Another organisation has a group of that name; nothing changed.
    Taken,
}

/// The flavors (columns of [`FlavorRow`]) of which some group belongs to `$1`, the
/// organisation of a group without an owner row being `$2` (`default`).
const OF_ORG: &str = "EXISTS (SELECT 1 FROM flavor_group_members m \
     LEFT JOIN owners o ON o.kind = 'group' AND o.id = m.group_name \
     WHERE m.flavor_id = f.flavor_id AND COALESCE(o.org, $2) = $1)";

fn flavor_row(r: &sqlx::any::AnyRow) -> Result<FlavorRow, StoreError> {
    Ok(FlavorRow {
        flavor_id: r.try_get(0)?,
        part: r.try_get(1)?,
        label: r.try_get(2)?,
        created: to_u64(r.try_get(3)?),
        flavor: r.try_get(4)?,
    })
}

#[derive(Debug, Clone)]
pub struct FlavorRow {
    pub flavor_id: String,
    pub part: String,
    pub label: String,
    pub created: u64,
    pub flavor: String,
}

impl Store {
    /// Inserts flavors and adds them to `group` in one transaction.
    pub async fn insert_flavors(&self, rows: &[FlavorRow], group: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for f in rows {
            insert_in(&mut tx, f, group).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn flavors(&self, group: Option<&str>) -> Result<Vec<FlavorRow>, StoreError> {
        let rows = match group {
            Some(g) => {
                sqlx::query(
                    "SELECT f.flavor_id, f.part, f.label, f.created, f.flavor FROM flavors f \
                     JOIN flavor_group_members m ON m.flavor_id = f.flavor_id WHERE m.group_name = $1 ORDER BY f.created",
                )
                .bind(g)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query("SELECT flavor_id, part, label, created, flavor FROM flavors ORDER BY created")
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(flavor_row).collect()
    }

    /// The flavors of `org`'s groups.
    pub(crate) async fn flavors_of(&self, org: &str) -> Result<Vec<FlavorRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT f.flavor_id, f.part, f.label, f.created, f.flavor FROM flavors f \
             WHERE {OF_ORG} ORDER BY f.created"
        ))
        .bind(org)
        .bind(DEFAULT_ORG)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(flavor_row).collect()
    }

    /// Whether flavor `id` is in a group of `org`.
    pub(crate) async fn flavor_of(&self, id: &str, org: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT 1 FROM flavors f WHERE f.flavor_id = $3 AND {OF_ORG}"
        ))
        .bind(org)
        .bind(DEFAULT_ORG)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    pub async fn delete_flavor(&self, flavor_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM flavors WHERE flavor_id = $1")
            .bind(flavor_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn upsert_group(&self, name: &str, group_json: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO flavor_groups (name, group_json) VALUES ($1, $2) ON CONFLICT(name) DO UPDATE SET group_json = excluded.group_json")
            .bind(name)
            .bind(group_json)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Creates group `name` in `org`, or replaces it when it is `org`'s already; `None`
    /// (the bootstrap credential) replaces any and creates in `default`. One transaction,
    /// and a creation that finds the name taken meanwhile (PostgreSQL: a concurrent
    /// creator committed first) reads the owner again: two organisations creating one
    /// name at once cannot both get it.
    pub(crate) async fn put_group_of(
        &self,
        name: &str,
        group_json: &str,
        org: Option<&str>,
    ) -> Result<GroupPut, StoreError> {
        for _ in 0..2 {
            if let Some(put) = self.try_put_group(name, group_json, org).await? {
                return Ok(put);
            }
        }
        Err(StoreError::Unavailable(format!(
            "flavor group {name} kept changing hands while it was written"
        )))
    }

    /// One attempt of [`Store::put_group_of`]; `None` when another writer created the
    /// group between the read and the insert.
    async fn try_put_group(
        &self,
        name: &str,
        group_json: &str,
        org: Option<&str>,
    ) -> Result<Option<GroupPut>, StoreError> {
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query(
            "SELECT COALESCE(o.org, $2) FROM flavor_groups g \
             LEFT JOIN owners o ON o.kind = 'group' AND o.id = g.name WHERE g.name = $1",
        )
        .bind(name)
        .bind(DEFAULT_ORG)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let put = match (&owner, org) {
            (Some(owner), Some(org)) if owner != org => return Ok(Some(GroupPut::Taken)),
            (Some(_), _) => GroupPut::Replaced,
            (None, _) => GroupPut::Created,
        };
        if put == GroupPut::Created {
            let created = sqlx::query(
                "INSERT INTO flavor_groups (name, group_json) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(group_json)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !created {
                return Ok(None);
            }
            if let Some(org) = org {
                sqlx::query(
                    "INSERT INTO owners (kind, id, org) VALUES ('group', $1, $2) \
                     ON CONFLICT (kind, id) DO UPDATE SET org = $2",
                )
                .bind(name)
                .bind(org)
                .execute(&mut *tx)
                .await?;
            }
        } else {
            sqlx::query("UPDATE flavor_groups SET group_json = $2 WHERE name = $1")
                .bind(name)
                .bind(group_json)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(put))
    }

    pub async fn group(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT group_json FROM flavor_groups WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn groups(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT name, group_json FROM flavor_groups ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// Inserts one flavor and its group membership inside `tx`.
pub(super) async fn insert_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    f: &FlavorRow,
    group: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO flavors (flavor_id, part, label, created, flavor) VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(&f.flavor_id)
    .bind(&f.part)
    .bind(&f.label)
    .bind(to_i64(f.created))
    .bind(&f.flavor)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO flavor_group_members (group_name, flavor_id) VALUES ($1, $2)")
        .bind(group)
        .bind(&f.flavor_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
