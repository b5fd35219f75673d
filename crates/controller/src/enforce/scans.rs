//! Each image's latest scan, for the policy "image scanned under a severity threshold":
//! what the service's stored inventory of the image's manifest digest last matched, and
//! when (`GET /v1/images/{digest}/summary`). Answers are cached for [`SCAN_TTL`], so a
//! rescan reaches admission within seconds and the API server's retries do not go back
//! to the service; failures are not cached.
//!
//! Never: count an image the service has no scan of as clean. A 404 (no inventory, never
//! matched, or a service without `--vulndb`) leaves the fact `None`, and the policy
//! answers "undecided".

use crate::webhook::cache::TtlCache;
use crate::webhook::BoxFuture;
use ironroot_api::ImageScanSummary;
use ironroot_policy::ScanSummary;
use std::sync::Arc;
use std::time::Duration;

/// How long an answer (a scan or "none") is reused.
pub const SCAN_TTL: Duration = Duration::from_secs(30);
/// Digests held: far more images than a cluster runs at once.
const CAPACITY: usize = 4096;
/// The largest summary answer read (a few fields).
const SUMMARY_LIMIT: usize = 16 << 10;

/// Where scan summaries come from: the service, or a fixed answer in tests.
pub trait ScanSource: Send + Sync {
    /// The summary for `digest`; `Ok(None)` when the service has none.
    fn summary<'a>(
        &'a self,
        digest: &'a str,
    ) -> BoxFuture<'a, Result<Option<ImageScanSummary>, String>>;
}

impl ScanSource for ironroot_client::Client {
    fn summary<'a>(
        &'a self,
        digest: &'a str,
    ) -> BoxFuture<'a, Result<Option<ImageScanSummary>, String>> {
        Box::pin(async move {
            self.image_scan_summary(digest).await.map_err(|e| {
                format!(
                    "the service, asked for the scan of {digest}: {}",
                    ironroot_client::error_chain(&e)
                )
            })
        })
    }
}

/// Scan summaries by manifest digest, cached.
pub struct ScanSummaries {
    source: Arc<dyn ScanSource>,
    /// `None`: the service has no scan of the digest.
    cache: TtlCache<String, Option<ScanSummary>>,
}

impl ScanSummaries {
    pub fn new(source: Arc<dyn ScanSource>) -> ScanSummaries {
        ScanSummaries {
            source,
            cache: TtlCache::new(Some(SCAN_TTL), CAPACITY),
        }
    }

    /// From the service, with the client the controller reaches it with (administrator
    /// token or the cluster's certificate).
    pub fn from_service(service: ironroot_client::Client) -> ScanSummaries {
        ScanSummaries::new(Arc::new(service.with_response_limit(SUMMARY_LIMIT)))
    }

    /// The latest scan of the image with manifest digest `digest`; `None`: none known.
    pub async fn scan(&self, digest: &str) -> Result<Option<ScanSummary>, String> {
        if let Some(known) = self.cache.get(&digest.to_owned()) {
            return Ok(known);
        }
        let answer = match self.source.summary(digest).await? {
            // Only the summary of this very digest counts.
            Some(s) if s.digest != digest => {
                return Err(format!(
                    "the service answered with the scan of {}, not {digest}",
                    s.digest
                ))
            }
            Some(s) => Some(ScanSummary {
                highest_unfixed: s.highest_unfixed,
                scanned_at: s.scanned_at,
            }),
            None => None,
        };
        self.cache.insert(digest.to_owned(), answer.clone());
        Ok(answer)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ironroot_severity::Severity;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) const KNOWN: &str =
        "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    /// Answers for [`KNOWN`] only (404 for any other digest), counting the questions.
    pub(crate) struct Fixed {
        pub asked: AtomicUsize,
        pub digest_answered: String,
    }

    impl ScanSource for Fixed {
        fn summary<'a>(
            &'a self,
            digest: &'a str,
        ) -> BoxFuture<'a, Result<Option<ImageScanSummary>, String>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let answer = (digest == KNOWN).then(|| ImageScanSummary {
                digest: self.digest_answered.clone(),
                highest_unfixed: Some(Severity::High),
                findings: 3,
                scanned_at: 1_700_000_000,
                generation: 7,
            });
            Box::pin(async move { Ok(answer) })
        }
    }

    pub(crate) fn fixed() -> Arc<Fixed> {
        Arc::new(Fixed {
            asked: AtomicUsize::new(0),
            digest_answered: KNOWN.into(),
        })
    }

    #[tokio::test]
    async fn a_known_scan_is_read_once_and_an_unknown_one_stays_unknown() {
        let source = fixed();
        let scans = ScanSummaries::new(source.clone());
        let want = Some(ScanSummary {
            highest_unfixed: Some(Severity::High),
            scanned_at: 1_700_000_000,
        });
        assert_eq!(scans.scan(KNOWN).await.unwrap(), want);
        assert_eq!(scans.scan(KNOWN).await.unwrap(), want);
        assert_eq!(source.asked.load(Ordering::SeqCst), 1, "cached");
        let other = format!("sha256:{}", "2".repeat(64));
        assert_eq!(scans.scan(&other).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_summary_of_another_digest_is_refused() {
        let source = Arc::new(Fixed {
            asked: AtomicUsize::new(0),
            digest_answered: format!("sha256:{}", "3".repeat(64)),
        });
        let scans = ScanSummaries::new(source);
        let e = scans.scan(KNOWN).await.unwrap_err();
        assert!(e.contains("not sha256:1111"), "{e}");
    }
}
