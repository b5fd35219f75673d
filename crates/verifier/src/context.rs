//! Per-evaluation indexes over the evidence, built once so that rules of many flavors
//! never replay or rescan the logs.

use crate::integrity::{self, Integrity};
use crate::Evidence;
use ironroot_crypto::HashAlg;
use ironroot_evidence::{Event, EventType, ImaEntry};
use ironroot_tpm_wire::{Digest, PcrValues};
use std::collections::{BTreeMap, HashMap};

/// IMA entries are extended into PCR 10 unless the IMA policy says otherwise.
pub(crate) const IMA_PCR: u32 = 10;

/// One event of the boot log as seen in one bank.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoggedEvent<'a> {
    pub event: &'a Event,
    pub digest: &'a Digest,
}

/// IMA entries of PCR 10 by path. A path may be measured several times (the file
/// changed), so each entry links to the previous one with the same path: two allocations
/// in total, however many files there are.
#[derive(Debug, Default)]
pub(crate) struct ImaIndex<'a> {
    entries: Vec<&'a ImaEntry>,
    last: HashMap<&'a str, usize>,
    prev: Vec<Option<usize>>,
}

impl<'a> ImaIndex<'a> {
    fn new(all: &'a [ImaEntry]) -> Self {
        let entries: Vec<&ImaEntry> = all.iter().filter(|e| e.pcr == IMA_PCR).collect();
        let mut last = HashMap::with_capacity(entries.len());
        let mut prev = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            prev.push(last.insert(e.path.as_str(), i));
        }
        ImaIndex {
            entries,
            last,
            prev,
        }
    }

    /// Every measurement of `path`, newest first.
    pub fn measurements(&self, path: &str) -> impl Iterator<Item = &'a ImaEntry> + '_ {
        let mut next = self.last.get(path).copied();
        std::iter::from_fn(move || {
            let i = next?;
            next = self.prev.get(i).copied().flatten();
            self.entries.get(i).copied()
        })
    }
}

pub(crate) struct Context<'a> {
    pub evidence: &'a Evidence,
    /// What the event log replays to, or `None` without a log.
    pub replayed: Option<PcrValues>,
    /// Boot log events per (bank, PCR), EV_NO_ACTION left out (it extends nothing).
    events: BTreeMap<(HashAlg, u32), Vec<LoggedEvent<'a>>>,
    pub ima: Option<ImaIndex<'a>>,
    pub integrity: Integrity,
}

impl<'a> Context<'a> {
    pub fn new(evidence: &'a Evidence) -> Self {
        let replayed = evidence.event_log.as_ref().map(|log| log.replay());
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
        let integrity = integrity::check(evidence, replayed.as_ref());
        Context {
            evidence,
            replayed,
            events,
            ima: evidence.ima.as_ref().map(|l| ImaIndex::new(&l.entries)),
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
