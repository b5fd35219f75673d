//! Image inventories and the rescans the service runs on its own (brief R16).
//!
//! `ironroot scan IMAGE --submit` sends a scan's report here; the service re-matches its
//! packages against its own database (never trusting the submitter's findings) and keeps
//! the inventory (ironroot-inventory's SQLite store, beside the service's data). A
//! watcher polls the configured database directory; when `ironroot db update` installs a
//! new generation there, the service loads it, rescans every stored inventory without
//! reading an image again, logs each image that became vulnerable, and lists the result
//! at `GET /v1/images/rescans`. A database that fails to load is reported there and the
//! last good one stays in use.
//!
//! Divided by organisation ([`orgs`]): an inventory is stored once per image, and each
//! organisation that submits the image may then read its summary and its changes in
//! rescans; to every other organisation it reads as unknown.

use crate::config::ImagesConfig;
use crate::error::ServiceError;
use crate::{now, AppState};
use axum::extract::State;
use axum::Json;
use ironroot_inventory::{Metadata, RescanLog, RescanRecord, Submitted};
use ironroot_scanner::ScanReport;
use ironroot_vulndb::Database;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

mod orgs;
mod summary;
pub(crate) use summary::summary;

/// Rescan records kept in the store (each with its per-image detail).
const KEEP_RESCANS: u32 = 16;
/// Most packages accepted in one submitted inventory.
const MAX_PACKAGES: usize = 200_000;

struct Loaded {
    meta: Metadata,
    db: Arc<Database>,
}

pub(crate) struct Images {
    vulndb: PathBuf,
    store: PathBuf,
    poll: Duration,
    max_age: u64,
    /// Serialises this replica's writes to the store (submissions and rescans).
    writing: tokio::sync::Mutex<()>,
    current: RwLock<Option<Loaded>>,
    problem: Mutex<Option<String>>,
    /// Set once inventories stored before organisations divided images have an owner.
    claimed: tokio::sync::OnceCell<()>,
}

impl Images {
    pub(crate) fn new(config: &ImagesConfig, data_dir: &std::path::Path) -> Images {
        Images {
            vulndb: config.vulndb.clone(),
            store: config
                .inventories
                .clone()
                .unwrap_or_else(|| data_dir.join("inventories")),
            poll: Duration::from_secs(config.poll_secs.max(1)),
            max_age: config.max_db_age_secs,
            writing: tokio::sync::Mutex::new(()),
            current: RwLock::new(None),
            problem: Mutex::new(None),
            claimed: tokio::sync::OnceCell::new(),
        }
    }

    fn generation(&self) -> u64 {
        self.current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|l| l.meta.updated_at))
            .unwrap_or(0)
    }

    fn set_problem(&self, p: Option<String>) {
        if let Ok(mut slot) = self.problem.lock() {
            if p.is_some() && *slot != p {
                tracing::warn!(problem = p.as_deref().unwrap_or(""), database = %self.vulndb.display(),
                    "the vulnerability database cannot be loaded; the last good one stays in use");
            }
            *slot = p;
        }
    }

    /// Loads the watched database if its generation is newer than the one in use and
    /// rescans every stored inventory against it.
    async fn check(&self) {
        let dir = self.vulndb.clone();
        let meta = match tokio::task::spawn_blocking(move || {
            ironroot_inventory::database::read_metadata(&dir)
        })
        .await
        {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => return self.set_problem(Some(e.to_string())),
            Err(e) => return self.set_problem(Some(format!("reading the metadata stopped: {e}"))),
        };
        if meta.updated_at <= self.generation() {
            return;
        }
        let t = std::time::Instant::now();
        let dir = self.vulndb.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let db = ironroot_inventory::database::load(&dir).map_err(|e| e.to_string())?;
            let after =
                ironroot_inventory::database::read_metadata(&dir).map_err(|e| e.to_string())?;
            Ok::<_, String>((db, after))
        })
        .await;
        let db = match loaded {
            // Replaced while it was being read: the next poll loads the new one whole.
            Ok(Ok((_, after))) if after != meta => return,
            Ok(Ok((db, _))) => Arc::new(db),
            Ok(Err(e)) => return self.set_problem(Some(e)),
            Err(e) => return self.set_problem(Some(format!("loading stopped: {e}"))),
        };
        let database_ms = t.elapsed().as_millis() as u64;
        self.set_problem(None);
        let _writing = self.writing.lock().await;
        // Rescanned before a restart: what it found is in the store, and inventories
        // submitted since were matched against this same database.
        let store = self.store.clone();
        let last =
            on_store_thread(move |rt| rt.block_on(ironroot_inventory::recent_rescans(&store, 1)))
                .await;
        if let Ok(Some(done)) = last.as_ref().map(|r| r.first()) {
            if done.generation >= meta.updated_at {
                tracing::info!(
                    generation = meta.updated_at,
                    "vulnerability database loaded; already rescanned"
                );
                if let Ok(mut c) = self.current.write() {
                    *c = Some(Loaded { meta, db });
                }
                return;
            }
        }
        let (store, matching, generation) = (self.store.clone(), db.clone(), meta.updated_at);
        let mut rescan = match on_store_thread(move |rt| {
            rt.block_on(ironroot_inventory::rescan(
                &store, &matching, generation, true,
            ))
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                // The generation is not taken: the next poll tries again.
                return self.set_problem(Some(format!("rescan: {e}")));
            }
        };
        rescan.timings.database_ms = database_ms;
        let stale = now().saturating_sub(meta.built_at) > self.max_age;
        for image in &rescan.images {
            let worst = image.new.iter().map(|v| v.severity).max();
            if image.new_count > 0 {
                tracing::warn!(image = %image.image, new = image.new_count, worst = ?worst,
                    generation = meta.updated_at, "image became vulnerable");
            }
            if image.gone_count > 0 {
                tracing::info!(image = %image.image, fixed = image.gone_count,
                    generation = meta.updated_at, "findings gone from image");
            }
        }
        tracing::info!(
            generation = meta.updated_at,
            inventories = rescan.inventories,
            packages = rescan.packages,
            images_changed = rescan.images.len(),
            stale,
            ms = t.elapsed().as_millis() as u64,
            "rescanned stored inventories against a new vulnerability database"
        );
        let record = RescanRecord {
            generation: meta.updated_at,
            finished_at: now(),
            database_built_at: meta.built_at,
            stale,
            rescan,
        };
        let store = self.store.clone();
        if let Err(e) = on_store_thread(move |rt| {
            rt.block_on(ironroot_inventory::record_rescan(
                &store,
                &record,
                KEEP_RESCANS,
            ))
        })
        .await
        {
            // The findings are in the log above. The generation is not taken: the next
            // poll rescans it again (finding nothing new) and records that.
            return self.set_problem(Some(format!("recording the rescan: {e}")));
        }
        if let Ok(mut c) = self.current.write() {
            *c = Some(Loaded { meta, db });
        }
    }
}

/// Runs store work on a blocking thread: matching is CPU work, and sqlx's SQLite
/// futures are not `Send` for every lifetime, so they cannot be spawned as tasks.
async fn on_store_thread<T: Send + 'static>(
    f: impl FnOnce(&tokio::runtime::Handle) -> Result<T, ironroot_inventory::InventoryError>
        + Send
        + 'static,
) -> Result<T, String> {
    let rt = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || f(&rt)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the store's thread stopped: {e}")),
    }
}

/// Polls the database directory for as long as the service runs.
pub(crate) async fn watch(images: Arc<Images>) {
    loop {
        images.check().await;
        tokio::time::sleep(images.poll).await;
    }
}

fn enabled(st: &AppState) -> Result<&Arc<Images>, ServiceError> {
    st.images.as_ref().ok_or_else(|| {
        ServiceError::NotFound(
            "the images API (start the service with --vulndb DIR to enable it)".into(),
        )
    })
}

/// `POST /v1/images/inventories`: keep a scan's inventory, matched by this service, and
/// make the image the caller's organisation's (the bootstrap token's: `default`'s).
pub(crate) async fn submit(
    State(st): State<Arc<AppState>>,
    p: crate::identity::Principal,
    body: axum::body::Bytes,
) -> Result<Json<Submitted>, ServiceError> {
    let images = enabled(&st)?.clone();
    images.claim_unsubmitted(&st.store).await?;
    let mut report: ScanReport = serde_json::from_slice(&body)
        .map_err(|e| ServiceError::BadRequest(format!("not an ironroot scan report: {e}")))?;
    if report.schema != ironroot_scanner::SCHEMA {
        return Err(ServiceError::BadRequest(format!(
            "unknown report schema {:?} (expected {})",
            report.schema,
            ironroot_scanner::SCHEMA
        )));
    }
    if report.packages.len() > MAX_PACKAGES {
        return Err(ServiceError::BadRequest(format!(
            "{} packages: more than the {MAX_PACKAGES} one inventory may hold",
            report.packages.len()
        )));
    }
    let loaded = images
        .current
        .read()
        .ok()
        .and_then(|c| c.as_ref().map(|l| (l.meta.updated_at, l.db.clone())));
    let generation = loaded.as_ref().map_or(0, |(g, _)| *g);
    let report = tokio::task::spawn_blocking(move || {
        match &loaded {
            Some((_, db)) => ironroot_inventory::rematch(&mut report, db),
            None => report.vulnerabilities.clear(),
        }
        report
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("matching stopped: {e}")))?;
    let _writing = images.writing.lock().await;
    // Before the inventory, so that a failure in between leaves a row without an
    // inventory (unknown to everyone) and never an inventory its submitter cannot see.
    // Under the write lock, the generation in use is that of the last rescan: the next
    // one is the first to include this image.
    let org = p.home_org();
    let key = ironroot_inventory::key(&report);
    let keep = orgs::keeps_stored(&st, &images, &p, &key).await?;
    let since = images.generation();
    st.store
        .add_image_org(&key, org, &report.image.reference, since)
        .await?;
    if keep {
        tracing::info!(image = %key, org, "inventory of an image other organisations \
            submitted: kept as stored, and now this organisation's too");
        return Ok(Json(Submitted {
            image: key,
            packages: report.packages.len(),
            vulnerabilities: report.vulnerabilities.len(),
            generation,
        }));
    }
    let store = images.store.clone();
    let report = on_store_thread(move |rt| {
        rt.block_on(ironroot_inventory::save(&store, &report, generation))?;
        // When it was matched, for `GET /v1/images/{digest}/summary` (unmatched: no time).
        if generation > 0 {
            let key = ironroot_inventory::key(&report);
            rt.block_on(ironroot_inventory::record_match(&store, &key, now()))?;
        }
        Ok(report)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let image = ironroot_inventory::key(&report);
    tracing::info!(%image, org, reference = %report.image.reference, packages = report.packages.len(),
        vulnerabilities = report.vulnerabilities.len(), generation, "inventory kept");
    Ok(Json(Submitted {
        image,
        packages: report.packages.len(),
        vulnerabilities: report.vulnerabilities.len(),
        generation,
    }))
}

/// `GET /v1/images/rescans`: the database in use, any problem loading a newer one, and
/// the latest rescans, newest first. A caller of an organisation sees each rescan as it
/// concerned that organisation's images: only their changes, `inventories` counting the
/// organisation's images the rescan ran over, `packages` 0 (see `orgs::for_org`).
pub(crate) async fn rescans(
    State(st): State<Arc<AppState>>,
    p: crate::identity::Principal,
) -> Result<Json<RescanLog>, ServiceError> {
    let images = enabled(&st)?;
    images.claim_unsubmitted(&st.store).await?;
    let database = images
        .current
        .read()
        .ok()
        .and_then(|c| c.as_ref().map(|l| l.meta.clone()));
    let problem = images.problem.lock().ok().and_then(|p| p.clone());
    let store = images.store.clone();
    let rescans = on_store_thread(move |rt| {
        rt.block_on(ironroot_inventory::recent_rescans(&store, KEEP_RESCANS))
    })
    .await
    .map_err(ServiceError::Internal)?;
    let rescans = orgs::only_visible(&st, &p, rescans).await?;
    Ok(Json(RescanLog {
        database,
        problem,
        rescans,
    }))
}
