//! rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16+), read with sqlx: the rows of its
//! `Packages` table are the header blobs `ironroot-pkgdb` parses. The bytes come from an
//! image, so the file is opened read-only and immutable from the scan's private
//! temporary directory, and the number of rows is bounded.

use ironroot_scanner::RpmSqlite;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

pub struct SqlxRpm {
    /// Where the database is written to be opened (a directory only this scan uses).
    pub workdir: std::path::PathBuf,
    pub runtime: tokio::runtime::Handle,
    pub max_packages: usize,
}

impl RpmSqlite for SqlxRpm {
    fn header_blobs(&self, db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let path = self.workdir.join("rpmdb.sqlite");
        std::fs::write(&path, db).map_err(|e| format!("writing the database to read it: {e}"))?;
        let max = self.max_packages;
        let result = self.runtime.block_on(async move {
            let mut conn = SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true)
                .immutable(true)
                .connect()
                .await
                .map_err(|e| format!("not an SQLite database: {e}"))?;
            let rows = sqlx::query("SELECT blob FROM Packages ORDER BY hnum LIMIT ?")
                .bind(max as i64 + 1)
                .fetch_all(&mut conn)
                .await
                .map_err(|e| format!("no readable Packages table: {e}"))?;
            if rows.len() > max {
                return Err(format!("more than {max} packages"));
            }
            rows.iter()
                .map(|r| {
                    r.try_get::<Vec<u8>, _>(0)
                        .map_err(|e| format!("a row's blob: {e}"))
                })
                .collect()
        });
        let _ = std::fs::remove_file(self.workdir.join("rpmdb.sqlite"));
        result
    }
}
