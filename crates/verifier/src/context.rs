//! Per-evaluation indexes over the evidence, built once so that rules of many flavors
//! never replay or rescan the logs.

use crate::integrity::{self, Integrity};
use crate::Evidence;
use ironroot_crypto::HashAlg;
use ironroot_evidence::{Event, EventType, ImaEntry};
use ironroot_tpm_wire::{Digest, PcrValues};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};

/// IMA entries are extended into PCR 10 unless the IMA policy says otherwise.
pub(crate) const IMA_PCR: u32 = 10;

/// One event of the boot log as seen in one bank.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoggedEvent<'a> {
    pub event: &'a Event,
    pub digest: &'a Digest,
}

/// IMA entries of PCR 10 by path. A path may be measured several times (the file
/// changed), so each entry links to the previous one with the same path. The index holds
/// positions, not references, so a per-host cache can keep it and extend it as the list
/// grows. Paths are keyed by their hash under a per-index random key (SipHash, so a host
/// cannot choose colliding paths); lookups compare the paths themselves, so a collision
/// costs time, never a wrong answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImaIndex {
    hasher: RandomState,
    last: HashMap<u64, usize>,
    /// For each entry indexed so far, the previous PCR 10 entry with the same path hash.
    prev: Vec<Option<usize>>,
}

impl ImaIndex {
    pub fn new(entries: &[ImaEntry]) -> Self {
        let mut index = ImaIndex {
            hasher: RandomState::new(),
            last: HashMap::with_capacity(entries.len()),
            prev: Vec::with_capacity(entries.len()),
        };
        index.extend(entries);
        index
    }

    /// Indexes the entries of `entries` past those indexed already; `entries` must start
    /// with the entries this index was built from.
    pub fn extend(&mut self, entries: &[ImaEntry]) {
        for (i, e) in entries.iter().enumerate().skip(self.prev.len()) {
            let prev = if e.pcr == IMA_PCR {
                self.last.insert(self.hasher.hash_one(e.path.as_str()), i)
            } else {
                None
            };
            self.prev.push(prev);
        }
    }

    /// Every measurement of `path` in PCR 10, newest first.
    pub fn measurements<'e>(
        &'e self,
        path: &'e str,
        entries: &'e [ImaEntry],
    ) -> impl Iterator<Item = &'e ImaEntry> + 'e {
        let mut next = self.last.get(&self.hasher.hash_one(path)).copied();
        std::iter::from_fn(move || loop {
            let i = next?;
            next = self.prev.get(i).copied().flatten();
            match entries.get(i) {
                Some(e) if e.path == path => return Some(e),
                Some(_) => continue,
                None => return None,
            }
        })
    }
}

/// Replays of the evidence's logs that a caller already holds, so an evaluation does
/// not redo them (see `EvidenceCache`). Each must be of exactly the evidence's logs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Known<'k> {
    /// `evidence.event_log.replay()`.
    pub event_log: Option<&'k PcrValues>,
    /// `evidence.ima.replay(&[bank])` for one bank.
    pub ima: Option<(HashAlg, &'k PcrValues)>,
    /// `ImaIndex::new(&evidence.ima.entries)`.
    pub ima_index: Option<&'k ImaIndex>,
}

/// The IMA list with its index, borrowed from a cache or built for this evaluation.
pub(crate) struct ImaView<'a> {
    pub entries: &'a [ImaEntry],
    pub index: Cow<'a, ImaIndex>,
}

impl<'a> ImaView<'a> {
    pub fn measurements(&'a self, path: &'a str) -> impl Iterator<Item = &'a ImaEntry> + 'a {
        self.index.measurements(path, self.entries)
    }
}

pub(crate) struct Context<'a> {
    pub evidence: &'a Evidence,
    /// What the event log replays to, or `None` without a log.
    pub replayed: Option<Cow<'a, PcrValues>>,
    /// Boot log events per (bank, PCR), EV_NO_ACTION left out (it extends nothing).
    events: BTreeMap<(HashAlg, u32), Vec<LoggedEvent<'a>>>,
    pub ima: Option<ImaView<'a>>,
    pub integrity: Integrity,
}

impl<'a> Context<'a> {
    pub fn new(evidence: &'a Evidence) -> Self {
        Self::with_known(evidence, Known::default())
    }

    pub fn with_known(evidence: &'a Evidence, known: Known<'a>) -> Self {
        let replayed = evidence
            .event_log
            .as_ref()
            .map(|log| match known.event_log {
                Some(r) => Cow::Borrowed(r),
                None => Cow::Owned(log.replay()),
            });
        let mut events: BTreeMap<(HashAlg, u32), Vec<LoggedEvent<'a>>> = BTreeMap::new();
        if let Some(log) = &evidence.event_log {
            for event in log
                .events
                .iter()
                .filter(|e| e.event_type != EventType::NoAction)
            {
                for (bank, digest) in &event.digests {
                    events
                        .entry((*bank, event.pcr))
                        .or_default()
                        .push(LoggedEvent { event, digest });
                }
            }
        }
        let integrity = integrity::check(evidence, replayed.as_deref(), known.ima);
        let ima = evidence.ima.as_ref().map(|l| ImaView {
            entries: &l.entries,
            index: match known.ima_index {
                Some(i) => Cow::Borrowed(i),
                None => Cow::Owned(ImaIndex::new(&l.entries)),
            },
        });
        Context {
            evidence,
            replayed,
            events,
            ima,
            integrity,
        }
    }

    pub fn quoted(&self) -> &'a PcrValues {
        &self.evidence.quoted
    }

    /// The log's events for one PCR in one bank, in log order.
    pub fn events(&self, bank: HashAlg, pcr: u32) -> &[LoggedEvent<'a>] {
        self.events
            .get(&(bank, pcr))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
