//! Reads the trust-event log in `seq` order and hands each new event to this replica's
//! subscribers. Every replica tails the same log, so a subscriber hears of every change,
//! whichever replica made it.
//!
//! PostgreSQL hands out `seq` at INSERT and makes rows visible at COMMIT, so a reader may
//! see 7 before 6. A missing `seq` below the highest seen is a gap: the tailer keeps
//! asking for it for `GAP_WAIT`, then gives up on it (a rolled-back transaction leaves a
//! gap that is never filled). SQLite has one writer and never shows such gaps.

use super::{EventBus, SeqEvent};
use crate::store::{Store, StoredEvent};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the log is read when nothing pokes the tailer: the bound on how late a
/// subscriber of one replica hears of a change made by another.
const TAIL_EVERY: Duration = Duration::from_millis(100);
/// Events read per query.
const PAGE: u32 = 1_000;
/// How long a gap is waited for; longer than any verdict transaction.
const GAP_WAIT: Duration = Duration::from_secs(10);
/// Gaps remembered at most; beyond that the oldest are given up at once.
const MAX_GAPS: usize = 10_000;

/// The position in the log: what was seen, and which lower `seq`s are still missing.
#[derive(Debug)]
pub(crate) struct Cursor {
    last: i64,
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    pub fn starting_after(last: i64) -> Cursor {
        Cursor {
            last,
            gaps: BTreeMap::new(),
        }
    }

    /// The `seq` to read after: just below the oldest gap, or the highest seen.
    pub fn read_after(&self) -> i64 {
        self.gaps.keys().next().map_or(self.last, |first| first - 1)
    }

    /// Takes a page read with `seq > read_after()`, in `seq` order, and returns the
    /// events not handed out before.
    pub fn accept(&mut self, rows: Vec<StoredEvent>, now: Instant) -> Vec<StoredEvent> {
        let mut fresh = Vec::with_capacity(rows.len());
        for row in rows {
            if row.seq <= self.last {
                if self.gaps.remove(&row.seq).is_some() {
                    fresh.push(row);
                }
                continue;
            }
            // Bounded: a jump of more than MAX_GAPS records only the newest MAX_GAPS.
            let from = (self.last + 1).max(row.seq.saturating_sub(MAX_GAPS as i64));
            for missing in from..row.seq {
                self.gaps.insert(missing, now);
            }
            self.last = row.seq;
            fresh.push(row);
        }
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        self.gaps
            .retain(|_, seen| now.saturating_duration_since(*seen) < GAP_WAIT);
        fresh
    }
}

/// Runs for the life of the service. A database error is logged once per outage; the
/// tailer resumes from where it stopped when the database is back.
pub(crate) async fn run(store: Store, bus: Arc<EventBus>) {
    let mut cursor = loop {
        match store.latest_event_seq().await {
            Ok(last) => break Cursor::starting_after(last),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the trust-event log; retrying");
                tokio::time::sleep(TAIL_EVERY * 10).await;
            }
        }
    };
    let mut failing = false;
    loop {
        tokio::select! {
            () = bus.poked() => {}
            () = tokio::time::sleep(TAIL_EVERY) => {}
        }
        loop {
            match store.events_after(cursor.read_after(), PAGE).await {
                Ok(rows) => {
                    if failing {
                        tracing::info!("trust-event log readable again");
                        failing = false;
                    }
                    let full = rows.len() == PAGE as usize;
                    for row in cursor.accept(rows, Instant::now()) {
                        bus.deliver(SeqEvent {
                            seq: row.seq,
                            event: Arc::new(row.event),
                        });
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "cannot read the trust-event log; will retry");
                        failing = true;
                    }
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironroot_api::{TrustEvent, TrustState};

    fn ev(seq: i64) -> StoredEvent {
        StoredEvent {
            seq,
            event: TrustEvent {
                host_id: format!("h{seq}"),
                hostname: "n".into(),
                previous: TrustState::Unknown,
                trust: TrustState::Trusted,
                at: 1,
                report_id: None,
                report_jws: None,
                reasons: vec![],
            },
        }
    }

    fn seqs(v: &[StoredEvent]) -> Vec<i64> {
        v.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn in_order_pages_are_handed_out_once() {
        let t = Instant::now();
        let mut c = Cursor::starting_after(4);
        assert_eq!(c.read_after(), 4);
        assert_eq!(seqs(&c.accept(vec![ev(5), ev(6)], t)), [5, 6]);
        assert_eq!(c.read_after(), 6);
        assert!(c.accept(vec![ev(5), ev(6)], t).is_empty(), "seen before");
    }

    #[test]
    fn a_late_commit_fills_its_gap_and_is_handed_out() {
        let t = Instant::now();
        let mut c = Cursor::starting_after(0);
        assert_eq!(seqs(&c.accept(vec![ev(1), ev(3), ev(4)], t)), [1, 3, 4]);
        assert_eq!(c.read_after(), 1, "re-reads from the gap");
        // The next page repeats 3 and 4 and brings 2 at last.
        assert_eq!(seqs(&c.accept(vec![ev(2), ev(3), ev(4)], t)), [2]);
        assert_eq!(c.read_after(), 4);
    }

    #[test]
    fn a_gap_that_never_fills_is_given_up() {
        let t = Instant::now();
        let mut c = Cursor::starting_after(0);
        c.accept(vec![ev(2)], t);
        assert_eq!(c.read_after(), 0);
        c.accept(vec![ev(2)], t + GAP_WAIT);
        assert_eq!(c.read_after(), 2);
        assert!(c.accept(vec![ev(1)], t + GAP_WAIT).is_empty(), "too late");
    }

    #[test]
    fn a_huge_jump_remembers_a_bounded_number_of_gaps() {
        let t = Instant::now();
        let mut c = Cursor::starting_after(0);
        c.accept(vec![ev(1_000_000)], t);
        assert_eq!(c.gaps.len(), MAX_GAPS);
        assert_eq!(c.read_after(), 1_000_000 - MAX_GAPS as i64 - 1);
    }
}
