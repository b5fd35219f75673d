//! `parse_appended` and `replay_into` give what parsing and replaying the whole list give.

use super::tests::sample;
use super::*;

fn longer() -> ImaListBuilder {
    let mut b = sample();
    for i in 0..6u8 {
        b.measure(&format!("/usr/lib/mod-{i}.so"), HashAlg::Sha256, &[i; 32])
            .unwrap();
    }
    b
}

/// Byte offsets where each entry of `log` starts in its ASCII and binary forms.
fn boundaries(log: &ImaLog, ascii: bool) -> Vec<usize> {
    let mut out = vec![0];
    for n in 1..=log.entries.len() {
        let prefix = ImaLog {
            entries: log.entries[..n].to_vec(),
        };
        out.push(if ascii {
            prefix.to_ascii().len()
        } else {
            prefix.to_binary().len()
        });
    }
    out
}

#[test]
fn appending_at_every_entry_boundary_equals_parsing_the_whole() {
    let b = longer();
    for (ascii, whole) in [(true, b.to_ascii().into_bytes()), (false, b.to_binary())] {
        let full = ImaLog::parse(&whole).unwrap();
        for &cut in boundaries(&full, ascii).iter().skip(1) {
            let (prev, tail) = whole.split_at(cut);
            let mut log = ImaLog::parse(prev).unwrap();
            assert!(log.parse_appended(prev, tail).unwrap(), "cut at {cut}");
            assert_eq!(log, full, "ascii={ascii}, cut at {cut}");
        }
    }
}

#[test]
fn nothing_to_resume_from_asks_for_a_full_parse() {
    let ascii = longer().to_ascii().into_bytes();
    let mut empty = ImaLog::default();
    assert!(!empty.parse_appended(&[], &ascii).unwrap());
    assert_eq!(empty, ImaLog::default());
    // A last line without its newline could go on in the tail: "/usr/bin/run" + "c".
    let unterminated = &ascii[..ascii.len() - 1];
    let mut log = ImaLog::parse(unterminated).unwrap();
    let before = log.clone();
    assert!(!log.parse_appended(unterminated, b"\n").unwrap());
    assert_eq!(log, before);
}

#[test]
fn errors_in_the_tail_are_those_of_the_whole_and_leave_the_list_unchanged() {
    let b = longer();
    let ascii = b.to_ascii().into_bytes();
    let cut = boundaries(b.log(), true)[3];
    let (prev, tail) = ascii.split_at(cut);
    let parsed = ImaLog::parse(prev).unwrap();
    let mut tails: Vec<Vec<u8>> = vec![b"\n".to_vec(), b"\n\n".to_vec(), b"garbage".to_vec()];
    // Flip one hex digit of the next entry's template hash: a SHA-1 mismatch.
    let mut flipped = tail.to_vec();
    flipped[4] = if flipped[4] == b'0' { b'1' } else { b'0' };
    tails.push(flipped);
    for t in tails {
        let whole = [prev, &t].concat();
        let want = ImaLog::parse(&whole).unwrap_err();
        let mut log = parsed.clone();
        assert_eq!(log.parse_appended(prev, &t).unwrap_err(), want);
        assert_eq!(log, parsed, "a failed append changes nothing");
    }
}

#[test]
fn binary_tail_errors_name_the_entry_in_the_whole_list() {
    let b = longer();
    let bin = b.to_binary();
    let cut = boundaries(b.log(), false)[2];
    let (prev, tail) = bin.split_at(cut);
    let truncated = &tail[..tail.len() - 1];
    let want = ImaLog::parse(&[prev, truncated].concat()).unwrap_err();
    let mut log = ImaLog::parse(prev).unwrap();
    assert_eq!(log.parse_appended(prev, truncated).unwrap_err(), want);
}

#[test]
fn the_size_limit_counts_the_whole_list() {
    let prev = longer().to_binary();
    let tail = vec![0u8; MAX_LIST_BYTES];
    let mut log = ImaLog::parse(&prev).unwrap();
    assert!(matches!(
        log.parse_appended(&prev, &tail),
        Err(ImaError::TooLarge { at: ImaPosition::Input, size, .. }) if size == prev.len() + tail.len()
    ));
}

#[test]
fn replay_into_continues_a_replay() {
    let log = longer().log().clone();
    let banks = [HashAlg::Sha1, HashAlg::Sha256];
    for n in 0..=log.entries.len() {
        let head = ImaLog {
            entries: log.entries[..n].to_vec(),
        };
        let mut pcrs = head.replay(&banks);
        log.replay_into(n, &banks, &mut pcrs);
        assert_eq!(pcrs, log.replay(&banks), "continued after {n} entries");
    }
}
