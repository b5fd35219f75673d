//! The one decoder of server-sent events (the service's `GET /v1/events`), after the
//! HTML standard's event-stream format: lines end in `\n` or `\r\n`, a blank line ends a
//! frame, `data:` lines join with `\n`, a line starting with `:` is a comment (the
//! keep-alives), one space after the colon is dropped. Bytes come in chunks split
//! anywhere (even inside a UTF-8 character); a frame larger than the limit is refused
//! rather than buffered without end.
//!
//! Pure: no transport; [`crate::EventStream`] feeds it.

use crate::ClientError;

/// The largest frame accepted (the service's events carry a signed report and failure
/// reasons: a few KiB).
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id:` field, when it is a number (the service's ids are trust-event log
    /// positions, sent back as `Last-Event-ID` to resume).
    pub id: Option<i64>,
    /// The `event:` field (`trust`, `lagged`), absent for a bare message.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Turns chunks of an event stream into events.
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes not yet split into lines.
    pending: Vec<u8>,
    /// The frame being read.
    id: Option<i64>,
    event: Option<String>,
    data: Option<String>,
    /// Bytes of the frame being read, its complete lines included.
    frame_bytes: usize,
    limit: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    /// A decoder refusing frames larger than `limit` bytes.
    pub fn with_limit(limit: usize) -> SseDecoder {
        SseDecoder {
            pending: Vec::new(),
            id: None,
            event: None,
            data: None,
            frame_bytes: 0,
            limit,
        }
    }

    /// Takes the next chunk of the stream. Refused once the frame being read passes
    /// the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ClientError> {
        self.pending.extend_from_slice(chunk);
        self.check_size()
    }

    fn check_size(&self) -> Result<(), ClientError> {
        if self.frame_bytes + self.pending.len() > self.limit {
            return Err(ClientError::EventTooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// The next complete event of what was pushed, or `None` until more arrives.
    /// Frames without data (keep-alives, comments) are not events.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, ClientError> {
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=end).collect();
            self.frame_bytes += line.len();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                if let Some(event) = self.dispatch() {
                    return Ok(Some(event));
                }
                continue;
            }
            self.check_size()?;
            self.field(&String::from_utf8_lossy(&line));
        }
        self.check_size()?;
        Ok(None)
    }

    fn field(&mut self, line: &str) {
        if line.starts_with(':') {
            return;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match name {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" => self.id = value.parse().ok(),
            _ => {}
        }
    }

    /// Ends the frame; an event if it had data.
    fn dispatch(&mut self) -> Option<SseEvent> {
        self.frame_bytes = 0;
        let id = self.id.take();
        let event = self.event.take();
        let data = self.data.take()?;
        Some(SseEvent { id, event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `stream` fed in chunks cut at `cuts`.
    fn decode(stream: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain([&stream.len()]) {
            d.push(&stream[from..cut]).unwrap();
            from = cut;
            while let Some(e) = d.next_event().unwrap() {
                out.push(e);
            }
        }
        out
    }

    fn ev(id: Option<i64>, event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            id,
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    const STREAM: &str = ": keep-alive\n\n\
        event: trust\nid: 7\ndata: {\"host\":\"n\u{e9}ud\"}\n\n\
        event: lagged\r\ndata: 3\r\n\r\n\
        data: first\ndata:second\ndata\n: a comment\nid: x\n\n\
        event: trust\nid: 9\n\n";

    fn want() -> Vec<SseEvent> {
        vec![
            ev(Some(7), Some("trust"), "{\"host\":\"n\u{e9}ud\"}"),
            ev(None, Some("lagged"), "3"),
            ev(None, None, "first\nsecond\n"),
        ]
    }

    #[test]
    fn frames_end_at_blank_lines_of_either_line_ending() {
        assert_eq!(decode(STREAM.as_bytes(), &[]), want());
    }

    /// Every single cut and every pair of cuts, inside `\r\n`, inside a field name, inside
    /// the two bytes of `é`: the same events.
    #[test]
    fn chunk_boundaries_anywhere_change_nothing() {
        let bytes = STREAM.as_bytes();
        for a in 0..=bytes.len() {
            assert_eq!(decode(bytes, &[a]), want(), "cut at {a}");
            for b in a..=bytes.len() {
                assert_eq!(decode(bytes, &[a, b]), want(), "cuts at {a}, {b}");
            }
        }
        let one_by_one: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(decode(bytes, &one_by_one), want());
    }

    #[test]
    fn a_frame_larger_than_the_limit_is_refused_however_it_arrives() {
        let mut d = SseDecoder::with_limit(16);
        d.push(b"data: 0123456").unwrap();
        assert!(d.next_event().unwrap().is_none());
        assert!(matches!(
            d.push(b"789abcdef"),
            Err(ClientError::EventTooLarge { limit: 16 })
        ));
        // Many short lines in one frame count too.
        let mut d = SseDecoder::with_limit(16);
        let mut refused = false;
        for _ in 0..10 {
            if d.push(b"data: x\n").is_err() || d.next_event().is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a frame of many lines passes the limit");
        // Frames within the limit, one after another, are fine however many.
        let mut d = SseDecoder::with_limit(16);
        for i in 0..100 {
            d.push(b"data: 0123456\n\n").unwrap();
            assert_eq!(d.next_event().unwrap().unwrap().data, "0123456", "{i}");
        }
    }

    #[test]
    fn the_default_limit_is_one_mebibyte() {
        let mut d = SseDecoder::default();
        let big = vec![b'x'; MAX_EVENT_BYTES - 8];
        d.push(b"data: ").unwrap();
        d.push(&big).unwrap();
        d.push(b"\n\n").unwrap();
        assert_eq!(d.next_event().unwrap().unwrap().data.len(), big.len());
        let mut d = SseDecoder::default();
        d.push(b"data: ").unwrap();
        assert!(d.push(&vec![b'x'; MAX_EVENT_BYTES]).is_err());
    }
}
