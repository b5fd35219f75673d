//! Reading a bundle's JSON Lines files from untrusted bytes: lines of bounded length, a
//! bounded file size and entry count, every line ended by a newline (so a truncated file
//! shows), and indexes strictly increasing. Malformed or misplaced lines are reported and
//! skipped; a limit stops the reading.

use super::{
    FieldDigests, ParsedProof, Problem, ProofLine, Report, MAX_ENTRIES, MAX_FILE_BYTES,
    MAX_PROOF_HASHES,
};
use crate::merkle::{hash_from_slice, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ironroot_api::AuditEntry;
use std::io::{self, BufRead};

/// A line as read.
enum Line {
    Complete,
    /// The file ended without a final newline.
    Unterminated,
    TooLong,
    Eof,
}

/// Reads one line into `buf` (newline removed) without ever holding more than `max` bytes.
fn read_line(r: &mut dyn BufRead, max: usize, buf: &mut Vec<u8>) -> io::Result<(Line, u64)> {
    buf.clear();
    let mut consumed = 0u64;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            let line = if buf.is_empty() && consumed == 0 {
                Line::Eof
            } else {
                Line::Unterminated
            };
            return Ok((line, consumed));
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        if buf.len() + take > max {
            let n = avail.len();
            r.consume(n);
            return Ok((Line::TooLong, consumed + n as u64));
        }
        buf.extend_from_slice(&avail[..take]);
        let used = take + usize::from(done);
        r.consume(used);
        consumed += used as u64;
        if done {
            return Ok((Line::Complete, consumed));
        }
    }
}

/// One JSON Lines file of a bundle, read in index order.
pub(crate) struct Stream<'r> {
    reader: &'r mut dyn BufRead,
    file: &'static str,
    max_line: usize,
    line: u64,
    bytes: u64,
    last: Option<u64>,
    buf: Vec<u8>,
}

impl<'r> Stream<'r> {
    pub(crate) fn new(reader: &'r mut dyn BufRead, file: &'static str, max_line: usize) -> Self {
        Stream {
            reader,
            file,
            max_line,
            line: 0,
            bytes: 0,
            last: None,
            buf: Vec::new(),
        }
    }

    /// The next well-formed, in-order line parsed by `parse`, with its index. Failures
    /// go to `report`; `None` at the end of the file or when a limit stopped reading.
    fn next<T>(
        &mut self,
        report: &mut Report,
        parse: impl Fn(&[u8]) -> Result<(u64, T), String>,
        mut on_parsed: impl FnMut(&T),
    ) -> io::Result<Option<(u64, T)>> {
        loop {
            let (kind, n) = read_line(self.reader, self.max_line, &mut self.buf)?;
            self.bytes += n;
            if matches!(kind, Line::Eof) {
                return Ok(None);
            }
            self.line += 1;
            if self.bytes > MAX_FILE_BYTES {
                report.stop(
                    None,
                    Problem::FileTooLarge {
                        file: self.file,
                        max: MAX_FILE_BYTES,
                    },
                );
                return Ok(None);
            }
            if self.line > MAX_ENTRIES {
                report.stop(
                    None,
                    Problem::TooManyEntries {
                        file: self.file,
                        max: MAX_ENTRIES,
                    },
                );
                return Ok(None);
            }
            let malformed = |reason: &str| Problem::Malformed {
                file: self.file,
                line: self.line,
                reason: reason.to_owned(),
            };
            match kind {
                Line::TooLong => {
                    let (file, line, max) = (self.file, self.line, self.max_line);
                    report.stop(None, Problem::LineTooLong { file, line, max });
                    return Ok(None);
                }
                Line::Unterminated => {
                    report.fail(None, malformed("no final newline (truncated file?)"));
                    return Ok(None);
                }
                Line::Complete | Line::Eof => {}
            }
            let (index, item) = match parse(&self.buf) {
                Ok(parsed) => parsed,
                Err(reason) => {
                    report.fail(None, malformed(&reason));
                    continue;
                }
            };
            on_parsed(&item);
            match self.last {
                Some(last) if index == last => {
                    report.fail(Some(index), Problem::Duplicate { file: self.file });
                }
                Some(last) if index < last => {
                    report.fail(
                        Some(index),
                        Problem::OutOfOrder {
                            file: self.file,
                            after: last,
                        },
                    );
                }
                _ => {
                    self.last = Some(index);
                    return Ok(Some((index, item)));
                }
            }
        }
    }

    /// The next entry of `entries.jsonl`; `on_parsed` sees every parsed entry, in file
    /// order, including misplaced ones (for the CSV check).
    pub(crate) fn next_entry(
        &mut self,
        report: &mut Report,
        on_parsed: impl FnMut(&AuditEntry),
    ) -> io::Result<Option<AuditEntry>> {
        Ok(self
            .next(report, parse_entry, on_parsed)?
            .map(|(_, entry)| entry))
    }

    /// The next proof of `proofs.jsonl`.
    pub(crate) fn next_proof(&mut self, report: &mut Report) -> io::Result<Option<ParsedProof>> {
        Ok(self.next(report, parse_proof, |_| {})?.map(|(_, p)| p))
    }
}

fn parse_entry(line: &[u8]) -> Result<(u64, AuditEntry), String> {
    if line.is_empty() {
        return Err("empty line".into());
    }
    let entry: AuditEntry =
        serde_json::from_slice(line).map_err(|e| format!("not an audit entry: {e}"))?;
    Ok((entry.index, entry))
}

fn parse_proof(line: &[u8]) -> Result<(u64, ParsedProof), String> {
    if line.is_empty() {
        return Err("empty line".into());
    }
    let p: ProofLine = serde_json::from_slice(line).map_err(|e| format!("not a proof: {e}"))?;
    if p.hashes.len() > MAX_PROOF_HASHES {
        return Err(format!("more than {MAX_PROOF_HASHES} proof hashes"));
    }
    let hash = |s: &str| -> Result<Hash, String> {
        let bytes = B64.decode(s).map_err(|_| format!("{s:?} is not base64"))?;
        hash_from_slice(&bytes).map_err(|e| e.to_string())
    };
    let parsed = ParsedProof {
        index: p.index,
        leaf_hash: hash(&p.leaf_hash)?,
        hashes: p
            .hashes
            .iter()
            .map(|h| hash(h.as_str()))
            .collect::<Result<_, _>>()?,
        fields: check_digests(p.fields)?,
    };
    Ok((parsed.index, parsed))
}

/// Field digests are 16 lowercase hex digits each.
fn check_digests(d: FieldDigests) -> Result<FieldDigests, String> {
    let ok = |s: &str| s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let all = [&d.index, &d.at, &d.kind, &d.actor, &d.subject, &d.body];
    if all.iter().all(|s| ok(s.as_str())) {
        Ok(d)
    } else {
        Err("field digests must be 16 lowercase hex digits".into())
    }
}
