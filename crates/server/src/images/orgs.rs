//! Which organisations see which stored images (`image_orgs`, docs/identity.md).
//!
//! An image's inventory is the same for every organisation that runs it, so it is stored
//! once; each organisation that submits it gets a row, and an organisation sees an image
//! (its summary, its changes in rescans) only once it has submitted it, so that none
//! learns which images another runs. Another organisation's image reads exactly as an
//! image nobody submitted (404). The bootstrap credential sees every image.

use super::{on_store_thread, Images};
use crate::error::ServiceError;
use crate::identity::{Principal, DEFAULT_ORG};
use crate::store::{to_i64, to_u64, Store, StoreError};
use crate::AppState;
use ironroot_inventory::RescanRecord;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// An organisation's row of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Own {
    /// The database generation in use when it submitted the image.
    pub generation: u64,
    /// What it named the image; empty for an image stored before images were divided.
    pub reference: String,
}

impl Store {
    /// Records that `org` submitted `image` (naming it `reference`) while database
    /// generation `generation` was in use. Submitting again keeps the first generation
    /// and takes the new name; other organisations' rows are left as they are.
    pub(crate) async fn add_image_org(
        &self,
        image: &str,
        org: &str,
        reference: &str,
        generation: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO image_orgs (image, org, generation, reference) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (image, org) DO UPDATE SET reference = $4",
        )
        .bind(image)
        .bind(org)
        .bind(to_i64(generation))
        .bind(reference)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether `org` submitted `image` (`same`), or another organisation did (`!same`).
    async fn image_row(&self, image: &str, org: &str, same: bool) -> Result<bool, StoreError> {
        let op = if same { "=" } else { "<>" };
        Ok(sqlx::query(&format!(
            "SELECT 1 FROM image_orgs WHERE image = $1 AND org {op} $2 LIMIT 1"
        ))
        .bind(image)
        .bind(org)
        .fetch_optional(self.pool())
        .await?
        .is_some())
    }

    /// The images `org` submitted, by key.
    pub(crate) async fn images_of_org(
        &self,
        org: &str,
    ) -> Result<HashMap<String, Own>, StoreError> {
        let rows =
            sqlx::query("SELECT image, generation, reference FROM image_orgs WHERE org = $1")
                .bind(org)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let own = Own {
                    generation: to_u64(r.try_get("generation")?),
                    reference: r.try_get("reference")?,
                };
                Ok((r.try_get("image")?, own))
            })
            .collect()
    }

    /// Gives each of `stored` that no organisation submitted to `default`, at generation
    /// 0 and named as stored; how many it gave.
    async fn claim_unsubmitted(&self, stored: Vec<String>) -> Result<usize, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT image FROM image_orgs")
            .fetch_all(self.pool())
            .await?;
        let known = rows
            .iter()
            .map(|r| r.try_get::<String, _>("image"))
            .collect::<Result<HashSet<_>, _>>()?;
        let missing: Vec<_> = stored.into_iter().filter(|k| !known.contains(k)).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        for image in &missing {
            sqlx::query(
                "INSERT INTO image_orgs (image, org, generation, reference) \
                 VALUES ($1, $2, 0, '') ON CONFLICT (image, org) DO NOTHING",
            )
            .bind(image.as_str())
            .bind(DEFAULT_ORG)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(missing.len())
    }
}

impl Images {
    /// Once per process, before images are first used: inventories stored before
    /// organisations divided images (no row) were the platform's, since only the
    /// `default` organisation could submit then, so they become `default`'s. Until that
    /// is done every request fails (and tries again), rather than hide or show them.
    pub(super) async fn claim_unsubmitted(&self, store: &Store) -> Result<(), ServiceError> {
        self.claimed
            .get_or_try_init(|| async {
                let _writing = self.writing.lock().await;
                let dir = self.store.clone();
                let keys =
                    on_store_thread(move |rt| rt.block_on(ironroot_inventory::stored_keys(&dir)))
                        .await
                        .map_err(ServiceError::Internal)?;
                let given = store.claim_unsubmitted(keys).await?;
                if given > 0 {
                    tracing::info!(
                        images = given,
                        "inventories stored before organisations divided images now belong to \
                         the default organisation"
                    );
                }
                Ok::<_, ServiceError>(())
            })
            .await
            .map(|_| ())
    }
}

/// Whether `p` may see the stored image `image`.
pub(super) async fn may_see(
    st: &AppState,
    p: &Principal,
    image: &str,
) -> Result<bool, ServiceError> {
    match &p.org {
        None => Ok(true),
        Some(org) => Ok(st.store.image_row(image, org, true).await?),
    }
}

/// Whether a submission of `image` by `p` must leave the stored inventory as it is:
/// another organisation submitted it and it is stored. The inventory of a digest is the
/// same for everyone who runs it, so once shared it is not one organisation's to change
/// (a lying submitter could otherwise make another's vulnerable image read as clean);
/// the platform (the bootstrap token) may still replace it.
pub(super) async fn keeps_stored(
    st: &AppState,
    images: &Images,
    p: &Principal,
    image: &str,
) -> Result<bool, ServiceError> {
    let Some(org) = &p.org else {
        return Ok(false);
    };
    if !st.store.image_row(image, org, false).await? {
        return Ok(false);
    }
    let (dir, key) = (images.store.clone(), image.to_owned());
    let stored =
        on_store_thread(move |rt| rt.block_on(ironroot_inventory::stored_scan(&dir, &key)))
            .await
            .map_err(ServiceError::Internal)?;
    Ok(stored.is_some())
}

/// What `p` sees of the rescan records (see [`for_org`]); the bootstrap credential sees
/// them whole.
pub(super) async fn only_visible(
    st: &AppState,
    p: &Principal,
    records: Vec<RescanRecord>,
) -> Result<Vec<RescanRecord>, ServiceError> {
    let Some(org) = &p.org else {
        return Ok(records);
    };
    let own = st.store.images_of_org(org).await?;
    Ok(records.into_iter().map(|r| for_org(r, &own)).collect())
}

/// A rescan record as an organisation sees it: the rescan as it concerned the images the
/// organisation had submitted before it ran (`own`, by key; a rescan at generation G ran
/// over those submitted at a lower one). `images` holds only their changes, each named
/// as the organisation named it, and `inventories` counts those images; `packages`, the
/// distinct packages of every organisation's images, is not theirs to count and reads 0.
/// The timings (the platform's work) are kept. A change recorded before changes named
/// their image's key matches no image, so is not shown.
fn for_org(mut record: RescanRecord, own: &HashMap<String, Own>) -> RescanRecord {
    let at = record.generation;
    let had = |key: &str| own.get(key).filter(|o| o.generation < at);
    record.rescan.images.retain_mut(|c| match had(&c.key) {
        Some(o) => {
            if !o.reference.is_empty() {
                c.image.clone_from(&o.reference);
            }
            true
        }
        None => false,
    });
    record.rescan.inventories = own.values().filter(|o| o.generation < at).count() as u64;
    record.rescan.packages = 0;
    record
}

#[cfg(test)]
mod tests {
    use super::{for_org, Own};
    use crate::store::Store;
    use ironroot_inventory::{ImageChange, Rescan, RescanRecord, Timings};
    use ironroot_testkit::databases::{PgCluster, TempDir};
    use std::collections::HashMap;

    /// The rows on one database: a second submission renames and keeps its generation,
    /// another organisation's row leaves the first's alone, unsubmitted images go to
    /// `default` once.
    async fn rows(store: Store) {
        store
            .add_image_org("sha256:b", "default", "app:1", 3)
            .await
            .unwrap();
        store
            .add_image_org("sha256:b", "default", "app:2", 9)
            .await
            .unwrap();
        let own = |generation, reference: &str| Own {
            generation,
            reference: reference.into(),
        };
        let mine = store.images_of_org("default").await.unwrap();
        assert_eq!(mine["sha256:b"], own(3, "app:2"));
        assert!(store.image_row("sha256:b", "default", true).await.unwrap());
        assert!(!store.image_row("sha256:b", "default", false).await.unwrap());
        let stored = vec!["sha256:b".to_owned(), "sha256:old".to_owned()];
        assert_eq!(store.claim_unsubmitted(stored.clone()).await.unwrap(), 1);
        assert_eq!(store.claim_unsubmitted(stored).await.unwrap(), 0);
        let mine = store.images_of_org("default").await.unwrap();
        assert_eq!(mine["sha256:old"], own(0, ""));
        assert_eq!(mine.len(), 2);
    }

    #[tokio::test]
    async fn image_rows_on_sqlite() {
        let dir = TempDir::new("image-orgs");
        rows(Store::open_sqlite(&dir.path().join("s.db")).await.unwrap()).await;
    }

    #[tokio::test]
    async fn image_rows_on_postgres() {
        let Some(pg) = PgCluster::start() else { return };
        rows(Store::open_postgres(&pg.url()).await.unwrap()).await;
    }

    fn change(image: &str) -> ImageChange {
        ImageChange {
            image: format!("{image}-as-stored"),
            key: image.into(),
            new_count: 1,
            gone_count: 0,
            new: Vec::new(),
            fixed: Vec::new(),
        }
    }

    fn record(generation: u64, images: &[&str]) -> RescanRecord {
        RescanRecord {
            generation,
            finished_at: 1,
            database_built_at: 1,
            stale: false,
            rescan: Rescan {
                inventories: 10,
                packages: 500,
                images: images.iter().map(|i| change(i)).collect(),
                timings: Timings::default(),
            },
        }
    }

    #[test]
    fn an_organisation_sees_only_the_images_it_had_submitted_when_the_rescan_ran() {
        // Before organisations (0: named as stored), before the rescan (5), at it (7: it
        // ran before), later (9).
        let own: HashMap<String, Own> = [("old", 0), ("before", 5), ("at", 7), ("later", 9)]
            .into_iter()
            .map(|(i, generation)| {
                let reference = if generation == 0 {
                    String::new()
                } else {
                    format!("{i}:1")
                };
                (
                    i.to_owned(),
                    Own {
                        generation,
                        reference,
                    },
                )
            })
            .collect();
        let seen = for_org(
            record(7, &["old", "before", "at", "later", "someone-elses"]),
            &own,
        );
        let images: Vec<_> = seen
            .rescan
            .images
            .iter()
            .map(|c| c.image.as_str())
            .collect();
        assert_eq!(images, ["old-as-stored", "before:1"]);
        assert_eq!((seen.rescan.inventories, seen.rescan.packages), (2, 0));
    }

    #[test]
    fn an_organisation_with_no_images_sees_empty_records() {
        let seen = for_org(record(3, &["a", "b"]), &HashMap::new());
        assert!(seen.rescan.images.is_empty());
        assert_eq!((seen.rescan.inventories, seen.rescan.packages), (0, 0));
        assert_eq!(seen.generation, 3);
    }
}
