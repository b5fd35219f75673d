use super::{to_i64, to_u64, Store, StoreError};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub report_id: String,
    pub host_id: String,
    pub created: u64,
    pub expires: u64,
    pub trusted: bool,
    pub report: String,
    pub jws: String,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        report_id: r.try_get("report_id")?,
        host_id: r.try_get("host_id")?,
        created: to_u64(r.try_get("created")?),
        expires: to_u64(r.try_get("expires")?),
        trusted: r.try_get::<i64, _>("trusted")? != 0,
        report: r.try_get("report")?,
        jws: r.try_get("jws")?,
    })
}

const COLUMNS: &str = "report_id, host_id, created, expires, trusted, report, jws";

/// The one INSERT of a report, shared by the group-commit writer and tests.
pub(super) fn insert_query(
    r: &ReportRow,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(
        "INSERT INTO reports (report_id, host_id, created, expires, trusted, report, jws) \
         VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(&r.report_id)
    .bind(&r.host_id)
    .bind(to_i64(r.created))
    .bind(to_i64(r.expires))
    .bind(i64::from(r.trusted))
    .bind(&r.report)
    .bind(&r.jws)
}

impl Store {
    /// Inserts one report outside the group-commit path (tests).
    #[cfg(test)]
    pub async fn insert_report(&self, r: &ReportRow) -> Result<(), StoreError> {
        insert_query(r).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn latest_report(&self, host_id: &str) -> Result<Option<ReportRow>, StoreError> {
        let q = format!("SELECT {COLUMNS} FROM reports WHERE host_id = $1 ORDER BY created DESC, rowid DESC LIMIT 1");
        let row = sqlx::query(&q)
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn report(&self, report_id: &str) -> Result<Option<ReportRow>, StoreError> {
        let q = format!("SELECT {COLUMNS} FROM reports WHERE report_id = $1");
        let row = sqlx::query(&q)
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Reports of one host created in `[from, to]`, newest first, at most `limit`.
    pub async fn reports_for_host(
        &self,
        host_id: &str,
        from: u64,
        to: u64,
        limit: u32,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let q = format!(
            "SELECT {COLUMNS} FROM reports WHERE host_id = $1 AND created >= $2 AND created <= $3 \
             ORDER BY created DESC, rowid DESC LIMIT $4"
        );
        let rows = sqlx::query(&q)
            .bind(host_id)
            .bind(to_i64(from))
            .bind(to_i64(to))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }
}
