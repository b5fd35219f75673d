//! Reading alerts: `GET /v1/alerts`'s filtered pages and one alert by id, each limited to
//! an organisation when the caller has one (the bootstrap credential reads them all).

use super::{by_id, from_row, COLUMNS};
use crate::store::{to_i64, Store, StoreError};
use ironroot_alerts::{AlertRecord, Severity};

/// `GET /v1/alerts`'s filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertFilter {
    pub state: Option<String>,
    pub min_severity: Option<Severity>,
    pub since: Option<u64>,
    /// Seen at or before (unix seconds of `last_seen`).
    pub until: Option<u64>,
    /// The source, exactly (`policy/P`).
    pub source: Option<String>,
    /// What the source starts with (`policy/`: every violation).
    pub source_prefix: Option<String>,
    /// What the subject starts with; every one must hold (`cluster/C/`, `cluster/C/NS/`).
    pub subject_prefixes: Vec<String>,
    /// The caller's organisation: only its alerts (`None`: every organisation's).
    pub org: Option<String>,
    /// `(last_seen, alert_id)` of the previous page's last alert.
    pub after: Option<(u64, String)>,
    pub limit: u32,
}

/// The SQL condition "column starts with parameter `$n`". Not `LIKE`: SQLite's `LIKE` is
/// case-insensitive for ASCII and PostgreSQL's is not, and `%` or `_` in the caller's text
/// would need escaping; comparing the first `length($n)` characters is exact, the same
/// in both, and has no wildcard to escape.
fn starts_with(column: &str, n: usize) -> String {
    format!(" AND substr({column}, 1, length(${n})) = ${n}")
}

impl Store {
    /// Alerts, most recently seen first, filtered; ties broken by id for stable pages.
    pub(crate) async fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let severities: Vec<&str> = Severity::ALL
            .iter()
            .filter(|s| f.min_severity.is_none_or(|m| **s >= m))
            .map(|s| s.name())
            .collect();
        let sev_list = severities
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",");
        let (after_seen, after_id) = f.after.clone().unwrap_or((u64::MAX, String::new()));
        // The text filters are bound parameters `$7` onwards, in this order.
        let mut texts: Vec<String> = Vec::new();
        let mut extra = String::new();
        if let Some(source) = &f.source {
            texts.push(source.clone());
            extra.push_str(&format!(" AND source = ${}", 6 + texts.len()));
        }
        if let Some(prefix) = &f.source_prefix {
            texts.push(prefix.clone());
            extra.push_str(&starts_with("source", 6 + texts.len()));
        }
        for prefix in &f.subject_prefixes {
            texts.push(prefix.clone());
            extra.push_str(&starts_with("subject", 6 + texts.len()));
        }
        if let Some(org) = &f.org {
            texts.push(org.clone());
            extra.push_str(&format!(" AND org = ${}", 6 + texts.len()));
        }
        // `severities` are this crate's own constant names, never the caller's text.
        let q = format!(
            "SELECT {COLUMNS} FROM alerts WHERE ($1 = '' OR state = $1) AND severity IN ({sev_list}) \
             AND last_seen >= $2 AND last_seen <= $6 \
             AND (last_seen < $3 OR (last_seen = $3 AND alert_id > $4)){extra} \
             ORDER BY last_seen DESC, alert_id LIMIT $5"
        );
        let mut query = sqlx::query(&q)
            .bind(f.state.clone().unwrap_or_default())
            .bind(to_i64(f.since.unwrap_or(0)))
            .bind(to_i64(after_seen))
            .bind(after_id)
            .bind(i64::from(f.limit))
            .bind(to_i64(f.until.unwrap_or(u64::MAX)));
        for t in texts {
            query = query.bind(t);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| from_row(r).map(|s| s.alert.record(&s.id)))
            .collect()
    }

    /// One alert by id, when it is `org`'s (`None`: whoever's it is). Another
    /// organisation's alert is `None` exactly like an unknown id.
    pub(crate) async fn alert(
        &self,
        id: &str,
        org: Option<&str>,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        Ok(by_id(&mut conn, id)
            .await?
            .filter(|s| org.is_none_or(|o| o == s.org))
            .map(|s| s.alert.record(&s.id)))
    }
}
