use super::{to_i64, to_u64, Store, StoreError};
use sqlx::Row;

/// A host as stored. `activated_at` is `None` until the credential challenge succeeded.
#[derive(Debug, Clone)]
pub struct HostRow {
    pub host_id: String,
    pub hostname: String,
    pub hardware_uuid: String,
    pub ek_public: Vec<u8>,
    pub ek_certificate: Option<Vec<u8>>,
    pub ak_public: Vec<u8>,
    pub ak_name: Vec<u8>,
    pub ak_qualified_name: Vec<u8>,
    pub enrolled_at: u64,
    pub activated_at: Option<u64>,
    pub flavor_group: String,
    pub reset_count: Option<u32>,
    pub restart_count: Option<u32>,
    pub clock: Option<u64>,
    /// The recorded trust state (`unknown`, `trusted`, `untrusted`, `expired`).
    pub trust_state: String,
    /// Hex SHA-256 of the host's current asset-tag certificate, and its tags as JSON.
    pub tag_digest: Option<String>,
    pub tag_json: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EnrollmentRow {
    pub enrollment_id: String,
    pub host_id: String,
    pub secret_sha256: Vec<u8>,
    pub expires_at: u64,
}

const HOST_COLUMNS: &str =
    "host_id, hostname, hardware_uuid, ek_public, ek_certificate, ak_public, ak_name, \
     ak_qualified_name, enrolled_at, activated_at, flavor_group, reset_count, restart_count, clock, \
     trust_state, tag_digest, tag_json";

fn host_from_row(r: &sqlx::any::AnyRow) -> Result<HostRow, StoreError> {
    Ok(HostRow {
        host_id: r.try_get("host_id")?,
        hostname: r.try_get("hostname")?,
        hardware_uuid: r.try_get("hardware_uuid")?,
        ek_public: r.try_get("ek_public")?,
        ek_certificate: r.try_get("ek_certificate")?,
        ak_public: r.try_get("ak_public")?,
        ak_name: r.try_get("ak_name")?,
        ak_qualified_name: r.try_get("ak_qualified_name")?,
        enrolled_at: to_u64(r.try_get("enrolled_at")?),
        activated_at: r.try_get::<Option<i64>, _>("activated_at")?.map(to_u64),
        flavor_group: r.try_get("flavor_group")?,
        reset_count: r
            .try_get::<Option<i64>, _>("reset_count")?
            .map(|v| v as u32),
        restart_count: r
            .try_get::<Option<i64>, _>("restart_count")?
            .map(|v| v as u32),
        clock: r.try_get::<Option<i64>, _>("clock")?.map(to_u64),
        trust_state: r.try_get("trust_state")?,
        tag_digest: r.try_get("tag_digest")?,
        tag_json: r.try_get("tag_json")?,
    })
}

impl Store {
    /// Records a host that presented its EK and AK, replacing an earlier enrollment of the
    /// same EK (a re-provisioned AK must go through the credential challenge again).
    pub async fn upsert_pending_host(&self, h: &HostRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM hosts WHERE ek_public = $1 AND host_id <> $2")
            .bind(&h.ek_public)
            .bind(&h.host_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO hosts (host_id, hostname, hardware_uuid, ek_public, ek_certificate, ak_public, ak_name, \
             ak_qualified_name, enrolled_at, activated_at, flavor_group) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,$10) \
             ON CONFLICT(host_id) DO UPDATE SET hostname=excluded.hostname, hardware_uuid=excluded.hardware_uuid, \
             ek_public=excluded.ek_public, ek_certificate=excluded.ek_certificate, ak_public=excluded.ak_public, \
             ak_name=excluded.ak_name, ak_qualified_name=excluded.ak_qualified_name, enrolled_at=excluded.enrolled_at, \
             activated_at=NULL, reset_count=NULL, restart_count=NULL, clock=NULL",
        )
        .bind(&h.host_id)
        .bind(&h.hostname)
        .bind(&h.hardware_uuid)
        .bind(&h.ek_public)
        .bind(&h.ek_certificate)
        .bind(&h.ak_public)
        .bind(&h.ak_name)
        .bind(&h.ak_qualified_name)
        .bind(to_i64(h.enrolled_at))
        .bind(&h.flavor_group)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn host_by_ek(&self, ek_public: &[u8]) -> Result<Option<HostRow>, StoreError> {
        let q = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE ek_public = $1");
        let row = sqlx::query(&q)
            .bind(ek_public)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(host_from_row).transpose()
    }

    pub async fn host(&self, host_id: &str) -> Result<Option<HostRow>, StoreError> {
        let q = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE host_id = $1");
        let row = sqlx::query(&q)
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(host_from_row).transpose()
    }

    pub async fn hosts(&self) -> Result<Vec<HostRow>, StoreError> {
        let q = format!("SELECT {HOST_COLUMNS} FROM hosts ORDER BY hostname, host_id");
        let rows = sqlx::query(&q).fetch_all(self.pool()).await?;
        rows.iter().map(host_from_row).collect()
    }

    pub async fn activate_host(&self, host_id: &str, now: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE hosts SET activated_at = $1 WHERE host_id = $2")
            .bind(to_i64(now))
            .bind(host_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Moves a host to another flavor group.
    pub async fn set_host_group(&self, host_id: &str, group: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE hosts SET flavor_group = $1 WHERE host_id = $2")
            .bind(group)
            .bind(host_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Keeps the latest verified evidence of a host, so flavors can be taken from it.
    pub async fn set_last_evidence(
        &self,
        host_id: &str,
        evidence_json: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE hosts SET last_evidence = $1 WHERE host_id = $2")
            .bind(evidence_json)
            .bind(host_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn last_evidence(&self, host_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT last_evidence FROM hosts WHERE host_id = $1")
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten()))
    }

    pub async fn insert_enrollment(&self, e: &EnrollmentRow) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM enrollments WHERE host_id = $1")
            .bind(&e.host_id)
            .execute(self.pool())
            .await?;
        sqlx::query("INSERT INTO enrollments (enrollment_id, host_id, secret_sha256, expires_at) VALUES ($1,$2,$3,$4)")
            .bind(&e.enrollment_id)
            .bind(&e.host_id)
            .bind(&e.secret_sha256)
            .bind(to_i64(e.expires_at))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes and returns an enrollment: each credential challenge can be answered once.
    pub async fn take_enrollment(
        &self,
        enrollment_id: &str,
    ) -> Result<Option<EnrollmentRow>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM enrollments WHERE enrollment_id = $1 RETURNING enrollment_id, host_id, secret_sha256, expires_at",
        )
        .bind(enrollment_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(EnrollmentRow {
                enrollment_id: r.try_get(0)?,
                host_id: r.try_get(1)?,
                secret_sha256: r.try_get(2)?,
                expires_at: to_u64(r.try_get(3)?),
            })
        })
        .transpose()
    }
}
