use super::{to_i64, to_u64, Store, StoreError};
use ironroot_api::TrustState;
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
    /// The recorded trust state.
    pub trust_state: TrustState,
    /// Hex SHA-256 of the host's current asset-tag certificate, and its tags as JSON.
    pub tag_digest: Option<String>,
    pub tag_json: Option<String>,
    /// Serial (hex) of the client certificate issued at activation or last renewal.
    pub cert_serial: Option<String>,
    /// The Kubernetes Node an administrator bound the host to. Read only here: written
    /// by [`Store::bind_node`] and [`Store::unbind_node`] alone, kept by re-enrollment.
    pub k8s_node: Option<String>,
    /// The kubelet's `podPidsLimit` the host's agent last reported with accepted evidence
    /// (written by [`Store::set_pod_pids_limit`] alone).
    pub kubelet_pod_pids_limit: Option<i64>,
}

pub(super) const HOST_COLUMNS: &str =
    "host_id, hostname, hardware_uuid, ek_public, ek_certificate, ak_public, ak_name, \
     ak_qualified_name, enrolled_at, activated_at, flavor_group, reset_count, restart_count, clock, \
     trust_state, tag_digest, tag_json, cert_serial, k8s_node, kubelet_pod_pids_limit";

pub(super) fn host_from_row(r: &sqlx::any::AnyRow) -> Result<HostRow, StoreError> {
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
        trust_state: super::trust::stored_state(r.try_get("trust_state")?)?,
        tag_digest: r.try_get("tag_digest")?,
        tag_json: r.try_get("tag_json")?,
        cert_serial: r.try_get("cert_serial")?,
        k8s_node: r.try_get("k8s_node")?,
        kubelet_pod_pids_limit: r.try_get("kubelet_pod_pids_limit")?,
    })
}

/// A credential challenge waiting for its answer, with everything the host row will get
/// when it is answered: the host row itself does not change before then.
#[derive(Debug, Clone)]
pub struct EnrollmentRow {
    pub enrollment_id: String,
    /// The host this enrollment will activate: the EK's existing host, or a new id.
    pub host_id: String,
    pub hostname: String,
    pub hardware_uuid: String,
    pub ek_public: Vec<u8>,
    pub ek_certificate: Option<Vec<u8>>,
    /// The AK the credential was made for, and only that AK.
    pub ak_public: Vec<u8>,
    pub ak_name: Vec<u8>,
    pub ak_qualified_name: Vec<u8>,
    pub secret_sha256: Vec<u8>,
    /// The client address that asked (for the log of re-enrollments).
    pub source: String,
    pub created_at: u64,
    pub expires_at: u64,
}

/// Why an answer to a credential challenge did not activate a host. Every case but
/// `Unknown` consumed the enrollment: a challenge is answered once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationRefused {
    Unknown,
    Expired,
    WrongSecret { host_id: String },
    NameTaken { hostname: String },
}

const ENROLLMENT_COLUMNS: &str =
    "enrollment_id, host_id, hostname, hardware_uuid, ek_public, ek_certificate, ak_public, \
     ak_name, ak_qualified_name, secret_sha256, source, created_at, expires_at";

fn enrollment_from_row(r: &sqlx::any::AnyRow) -> Result<EnrollmentRow, StoreError> {
    Ok(EnrollmentRow {
        enrollment_id: r.try_get("enrollment_id")?,
        host_id: r.try_get("host_id")?,
        hostname: r.try_get("hostname")?,
        hardware_uuid: r.try_get("hardware_uuid")?,
        ek_public: r.try_get("ek_public")?,
        ek_certificate: r.try_get("ek_certificate")?,
        ak_public: r.try_get("ak_public")?,
        ak_name: r.try_get("ak_name")?,
        ak_qualified_name: r.try_get("ak_qualified_name")?,
        secret_sha256: r.try_get("secret_sha256")?,
        source: r.try_get("source")?,
        created_at: to_u64(r.try_get("created_at")?),
        expires_at: to_u64(r.try_get("expires_at")?),
    })
}

impl Store {
    /// Writes a host row as given (benchmark enrollment and tests; real enrollment goes
    /// through [`Store::insert_enrollment`] and [`Store::activate_enrollment`]).
    #[cfg(any(test, feature = "bench-enrollment"))]
    pub async fn put_host(&self, h: &HostRow) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM hosts WHERE ek_public = $1 AND host_id <> $2")
            .bind(&h.ek_public)
            .bind(&h.host_id)
            .execute(&mut *tx)
            .await?;
        upsert_host(&mut tx, h).await?;
        tx.commit().await?;
        Ok(())
    }

    /// True when a host other than the one holding `ek_public` has this name.
    pub async fn hostname_taken(
        &self,
        hostname: &str,
        ek_public: &[u8],
    ) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM hosts WHERE hostname = $1 AND ek_public <> $2")
            .bind(hostname)
            .bind(ek_public)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
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

    #[cfg(test)]
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

    /// Records a credential challenge. The host row is not touched: an enrollment
    /// changes nothing until its challenge is answered.
    pub async fn insert_enrollment(&self, e: &EnrollmentRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO enrollments ({ENROLLMENT_COLUMNS}) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
        ))
        .bind(&e.enrollment_id)
        .bind(&e.host_id)
        .bind(&e.hostname)
        .bind(&e.hardware_uuid)
        .bind(&e.ek_public)
        .bind(&e.ek_certificate)
        .bind(&e.ak_public)
        .bind(&e.ak_name)
        .bind(&e.ak_qualified_name)
        .bind(&e.secret_sha256)
        .bind(&e.source)
        .bind(to_i64(e.created_at))
        .bind(to_i64(e.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// An outstanding enrollment, without consuming it.
    pub async fn enrollment(
        &self,
        enrollment_id: &str,
    ) -> Result<Option<EnrollmentRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE enrollment_id = $1"
        ))
        .bind(enrollment_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(enrollment_from_row).transpose()
    }

    /// Consumes enrollment `enrollment_id` and, when `secret_sha256` is the digest of its
    /// secret, makes its AK the host's AK in the same transaction: the AK a quote is
    /// checked with is always the one whose credential was activated. The host's boot
    /// counters and clock start again, and `cert_serial` becomes the one client
    /// certificate that speaks for it (earlier ones are refused from now on).
    pub async fn activate_enrollment(
        &self,
        enrollment_id: &str,
        secret_sha256: &[u8],
        now: u64,
        cert_serial: &str,
    ) -> Result<Result<EnrollmentRow, ActivationRefused>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "DELETE FROM enrollments WHERE enrollment_id = $1 RETURNING {ENROLLMENT_COLUMNS}"
        ))
        .bind(enrollment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(e) = row.as_ref().map(enrollment_from_row).transpose()? else {
            return Ok(Err(ActivationRefused::Unknown));
        };
        let refused = if e.expires_at <= now {
            Some(ActivationRefused::Expired)
        } else if !ironroot_crypto::constant_time_eq(secret_sha256, &e.secret_sha256) {
            Some(ActivationRefused::WrongSecret {
                host_id: e.host_id.clone(),
            })
        } else if sqlx::query("SELECT 1 FROM hosts WHERE hostname = $1 AND ek_public <> $2")
            .bind(&e.hostname)
            .bind(&e.ek_public)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            Some(ActivationRefused::NameTaken {
                hostname: e.hostname.clone(),
            })
        } else {
            None
        };
        if let Some(r) = refused {
            tx.commit().await?;
            return Ok(Err(r));
        }
        // Two first enrollments of one EK may have picked two host ids: the one
        // activated last is the host.
        sqlx::query("DELETE FROM hosts WHERE ek_public = $1 AND host_id <> $2")
            .bind(&e.ek_public)
            .bind(&e.host_id)
            .execute(&mut *tx)
            .await?;
        let host = HostRow {
            host_id: e.host_id.clone(),
            hostname: e.hostname.clone(),
            hardware_uuid: e.hardware_uuid.clone(),
            ek_public: e.ek_public.clone(),
            ek_certificate: e.ek_certificate.clone(),
            ak_public: e.ak_public.clone(),
            ak_name: e.ak_name.clone(),
            ak_qualified_name: e.ak_qualified_name.clone(),
            enrolled_at: now,
            activated_at: Some(now),
            flavor_group: "automatic".into(),
            reset_count: None,
            restart_count: None,
            clock: None,
            trust_state: TrustState::INITIAL,
            tag_digest: None,
            tag_json: None,
            cert_serial: Some(cert_serial.to_owned()),
            k8s_node: None,
            kubelet_pod_pids_limit: None,
        };
        upsert_host(&mut tx, &host).await?;
        tx.commit().await?;
        Ok(Ok(e))
    }

    /// Drops an enrollment unanswered (its answer came with an unusable request).
    pub async fn discard_enrollment(&self, enrollment_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM enrollments WHERE enrollment_id = $1")
            .bind(enrollment_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Replaces the host's client certificate serial, only if `old` is still current
    /// (a renewal raced by a re-enrollment loses).
    pub async fn renew_cert_serial(
        &self,
        host_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE hosts SET cert_serial = $1 WHERE host_id = $2 AND cert_serial = $3",
        )
        .bind(new)
        .bind(host_id)
        .bind(old)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a host and what hangs off it (reports, tags: `ON DELETE CASCADE`). A
    /// bound host's Node name is free again, and the trust-event log says so in the same
    /// transaction (a re-read event: the host is gone from `GET /v1/nodes`).
    pub async fn delete_host(&self, host_id: &str, now: u64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let node = super::nodes::lock_host(&mut tx, host_id).await?.flatten();
        if let Some(node) = node {
            let reason = format!("unbound from Kubernetes node {node}: host deleted");
            super::nodes::facts_changed(&mut tx, host_id, reason, now).await?;
        }
        let done = sqlx::query("DELETE FROM hosts WHERE host_id = $1")
            .bind(host_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Drops enrollments whose challenge expired before it was answered, and hosts that
    /// never completed one (rows of services before 0005, which made a host at the
    /// request) once they are older than `pending_cutoff`.
    pub async fn prune_enrollments(
        &self,
        now: u64,
        pending_cutoff: u64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM enrollments WHERE expires_at <= $1")
            .bind(to_i64(now))
            .execute(self.pool())
            .await?;
        let hosts =
            sqlx::query("DELETE FROM hosts WHERE activated_at IS NULL AND enrolled_at < $1")
                .bind(to_i64(pending_cutoff))
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() + hosts.rows_affected())
    }
}

/// Inserts the host, or updates everything enrollment decides about it. The flavor
/// group, asset tag and trust state of a known host are kept.
async fn upsert_host(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    h: &HostRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO hosts (host_id, hostname, hardware_uuid, ek_public, ek_certificate, ak_public, ak_name, \
         ak_qualified_name, enrolled_at, activated_at, flavor_group, cert_serial) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
         ON CONFLICT(host_id) DO UPDATE SET hostname=excluded.hostname, hardware_uuid=excluded.hardware_uuid, \
         ek_public=excluded.ek_public, ek_certificate=excluded.ek_certificate, ak_public=excluded.ak_public, \
         ak_name=excluded.ak_name, ak_qualified_name=excluded.ak_qualified_name, enrolled_at=excluded.enrolled_at, \
         activated_at=excluded.activated_at, cert_serial=excluded.cert_serial, \
         reset_count=NULL, restart_count=NULL, clock=NULL",
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
    .bind(h.activated_at.map(to_i64))
    .bind(&h.flavor_group)
    .bind(&h.cert_serial)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
