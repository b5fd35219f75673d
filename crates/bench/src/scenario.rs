//! The cases the benchmark times, over one host's evidence.

use crate::host::{self, Ak, FixtureError, Quote};
use crate::measure::{timed, Batch, Case};
use ironroot_crypto::{HashAlg, RsaPublicKey};
use ironroot_evidence::{EventLog, ImaLog};
use ironroot_tpm_wire::{verify_quote, VerifiedQuote};
use ironroot_verifier::{
    flavors_from_host, verify, Evidence, EvidenceCache, Flavor, FlavorGroup, FlavorTemplate,
    HostInfo, TrustReport,
};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const NOW: u64 = 1_700_000_000;
const VALIDITY: u64 = 3600;
/// Quotes of an unchanged host (fresh nonce and clock each) and states of a growing list.
const QUOTES: usize = 32;
const GROWTH: usize = 64;
/// Operations per timed batch for the cases that need no set-up between batches.
const BATCH: u32 = 20;

pub struct Scenario {
    ak: Ak,
    rsa: RsaPublicKey,
    pub boot_bytes: Vec<u8>,
    pub ima_bytes: Vec<u8>,
    group: FlavorGroup,
    flavors: Arc<[Flavor]>,
    /// An equal copy, as a service that reloads flavors for each attestation holds.
    reloaded: Arc<[Flavor]>,
    /// The same PCRs quoted again and again.
    repeats: Vec<Quote>,
    /// The IMA list growing by one entry at a time, each with the quote that covers it.
    growth: Vec<(Vec<u8>, Quote)>,
}

impl Scenario {
    pub fn build() -> Result<Self, FixtureError> {
        let ak = Ak::generate()?;
        let rsa = ak.public.rsa_key().ok_or(FixtureError::Key)?;
        let boot_bytes = host::boot_log()?;
        let boot = EventLog::parse(&boot_bytes)?;
        let mut ima = host::ima_list(&boot)?;
        let ima_bytes = ima.to_ascii().into_bytes();
        let pcrs = host::pcrs(&boot, ima.log());
        let repeats = (0..QUOTES as u64)
            .map(|i| ak.quote(&pcrs, &nonce(i), 1_000_000 + i * 30_000))
            .collect::<Result<Vec<_>, _>>()?;
        let mut growth = Vec::with_capacity(GROWTH);
        for j in 0..GROWTH as u64 {
            if j > 0 {
                let path = format!("/usr/bin/new-{j}");
                let d = ironroot_crypto::digest(HashAlg::Sha256, path.as_bytes());
                ima.measure(&path, HashAlg::Sha256, &d)?;
            }
            let pcrs = host::pcrs(&boot, ima.log());
            let q = ak.quote(&pcrs, &nonce(1000 + j), 2_000_000 + j * 30_000)?;
            growth.push((ima.to_ascii().into_bytes(), q));
        }
        let golden = Evidence {
            quoted: pcrs,
            event_log: Some(boot),
            ima: Some(ImaLog::parse(&ima_bytes)?),
            host: info(0),
        };
        let flavors = flavors_from_host(&golden, &FlavorTemplate::default_uefi(), "bench", NOW)
            .map_err(|_| FixtureError::Key)?;
        Ok(Scenario {
            ak,
            rsa,
            boot_bytes,
            ima_bytes,
            group: FlavorGroup::default_group("automatic"),
            reloaded: flavors.clone().into(),
            flavors: flavors.into(),
            repeats,
            growth,
        })
    }

    pub fn boot_events(&self) -> usize {
        EventLog::parse(&self.boot_bytes).map_or(0, |l| l.events.len())
    }

    pub fn ima_entries(&self) -> usize {
        ImaLog::parse(&self.ima_bytes).map_or(0, |l| l.entries.len())
    }

    fn quote(&self, q: &Quote) -> Result<VerifiedQuote, String> {
        verify_quote(
            &self.ak.public,
            Some(&self.ak.qualified_name),
            &q.attest,
            &q.signature,
            &q.nonce,
            &q.pcrs,
        )
        .map_err(|e| format!("quote rejected: {e}"))
    }

    /// What the service does for a host it has not seen: everything from scratch.
    fn cold(&self, q: &Quote, ima: &[u8]) -> Result<TrustReport, String> {
        let quote = self.quote(q)?;
        let evidence = Evidence {
            quoted: quote.pcrs().clone(),
            event_log: Some(EventLog::parse(&self.boot_bytes).map_err(|e| e.to_string())?),
            ima: Some(ImaLog::parse(ima).map_err(|e| e.to_string())?),
            host: info(quote.clock_info().clock),
        };
        Ok(verify(&evidence, &self.group, &self.flavors, NOW, VALIDITY))
    }

    /// What the service does with a per-host cache.
    fn warm(
        &self,
        cache: &mut EvidenceCache,
        q: &Quote,
        ima: &[u8],
    ) -> Result<TrustReport, String> {
        self.warm_with(cache, q, ima, &self.flavors)
    }

    fn warm_with(
        &self,
        cache: &mut EvidenceCache,
        q: &Quote,
        ima: &[u8],
        flavors: &Arc<[Flavor]>,
    ) -> Result<TrustReport, String> {
        let quote = self.quote(q)?;
        let ev = cache
            .update(
                quote.pcrs().clone(),
                Some(&self.boot_bytes),
                Some(ima),
                info(quote.clock_info().clock),
            )
            .map_err(|e| e.to_string())?;
        Ok(ev.verify(&self.group, flavors, NOW, VALIDITY))
    }

    /// The evidence is genuine and the cache agrees with a cold evaluation.
    pub fn check(&self) -> Result<(), String> {
        let mut cache = EvidenceCache::new();
        for q in self.repeats.iter().take(2) {
            let cold = self.cold(q, &self.ima_bytes)?;
            let warm = self.warm(&mut cache, q, &self.ima_bytes)?;
            if !cold.trusted || cold != warm {
                return Err(format!("unexpected report: {cold:?}"));
            }
        }
        for (ima, q) in &self.growth {
            let cold = self.cold(q, ima)?;
            if !cold.trusted || cold != self.warm(&mut cache, q, ima)? {
                return Err("the growing host is not trusted, or the cache disagrees".into());
            }
        }
        Ok(())
    }

    pub fn cases(&self) -> Vec<Case<'_>> {
        let q0 = &self.repeats[0];
        let (mut i, mut j) = (0usize, 0usize);
        let mut cache = EvidenceCache::new();
        let mut cache2 = EvidenceCache::new();
        vec![
            case(
                "(a) RSA-2048 PKCS#1 v1.5 verify, SHA-256 (baseline)",
                move || {
                    timed(BATCH, || {
                        self.rsa
                            .verify_pkcs1(HashAlg::Sha256, black_box(&q0.attest), &q0.rsa_sig)
                            .map_err(|e| e.to_string())
                    })
                },
            ),
            case(
                "(b) verify_quote (parse, signature, nonce, PCR digest)",
                move || {
                    timed(BATCH, || {
                        self.quote(black_box(q0)).map(|q| drop(black_box(q)))
                    })
                },
            ),
            case(
                "(c) cold: verify_quote + parse both logs + verify",
                move || {
                    timed(BATCH, || {
                        trusted(self.cold(black_box(q0), &self.ima_bytes)?)
                    })
                },
            ),
            case("    (c1) of which EventLog::parse", move || {
                timed(BATCH, || {
                    EventLog::parse(black_box(&self.boot_bytes))
                        .map(|l| drop(black_box(l)))
                        .map_err(|e| e.to_string())
                })
            }),
            case("    (c2) of which ImaLog::parse", move || {
                timed(BATCH, || {
                    ImaLog::parse(black_box(&self.ima_bytes))
                        .map(|l| drop(black_box(l)))
                        .map_err(|e| e.to_string())
                })
            }),
            case(
                "(d) warm, unchanged host: quote + cache (verdict reused)",
                move || {
                    timed(BATCH, || {
                        i = (i + 1) % self.repeats.len();
                        trusted(self.warm(&mut cache, &self.repeats[i], &self.ima_bytes)?)
                    })
                },
            ),
            case(
                "(d') same, flavors reloaded (compared by value)",
                move || {
                    timed(BATCH, || {
                        j = (j + 1) % self.repeats.len();
                        let f = if j % 2 == 0 {
                            &self.flavors
                        } else {
                            &self.reloaded
                        };
                        trusted(self.warm_with(
                            &mut cache2,
                            &self.repeats[j],
                            &self.ima_bytes,
                            f,
                        )?)
                    })
                },
            ),
            case(
                "(e) warm, IMA list grew by 1 entry: quote + cache",
                move || self.growing_batch(),
            ),
        ]
    }

    /// One batch of (e): start from the first state (not timed), then time each step of
    /// the list growing by one entry.
    fn growing_batch(&self) -> Result<Batch, String> {
        let mut cache = EvidenceCache::new();
        let (first, q) = self.growth.first().ok_or("no growth states")?;
        trusted(self.warm(&mut cache, q, first)?)?;
        let start = Instant::now();
        for (ima, q) in self.growth.iter().skip(1) {
            trusted(self.warm(&mut cache, q, ima)?)?;
        }
        Ok(Batch {
            ops: (self.growth.len() - 1) as u32,
            elapsed: start.elapsed(),
        })
    }
}

fn case<'a>(name: &'static str, run: impl FnMut() -> Result<Batch, String> + 'a) -> Case<'a> {
    Case {
        name,
        run: Box::new(run),
    }
}

fn trusted(r: TrustReport) -> Result<(), String> {
    if r.trusted {
        black_box(r);
        Ok(())
    } else {
        Err("the host was not trusted".into())
    }
}

fn nonce(i: u64) -> Vec<u8> {
    let mut n = [0x5a; 32];
    n[..8].copy_from_slice(&i.to_be_bytes());
    n.to_vec()
}

fn info(clock_ms: u64) -> HostInfo {
    HostInfo {
        host_id: "bench-host".into(),
        hostname: "bench.example".into(),
        reset_count: 3,
        restart_count: 0,
        clock_ms,
        vendor: String::new(),
        asset_tag: None,
    }
}
