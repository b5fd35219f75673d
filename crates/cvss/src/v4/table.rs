//! The specification's data: MacroVector scores, the highest-severity vectors of each EQ class
//! and the depth of each class. See `macrovector_scores.txt` for the source of the scores; the
//! maxima and depths come from the same distribution (`max_composed.js`, `max_severity.js`).

/// EQ levels of a MacroVector: EQ1..EQ6.
pub(crate) type MacroVector = [u8; 6];

const SLOTS: usize = 3 * 2 * 3 * 3 * 3 * 2;
const MISSING: u8 = u8::MAX;

const fn slot(mv: MacroVector) -> Option<usize> {
    if mv[0] > 2 || mv[1] > 1 || mv[2] > 2 || mv[3] > 2 || mv[4] > 2 || mv[5] > 1 {
        return None;
    }
    let [a, b, c, d, e, f] = mv;
    Some(
        ((((a as usize * 2 + b as usize) * 3 + c as usize) * 3 + d as usize) * 3 + e as usize) * 2
            + f as usize,
    )
}

/// Parses the data file at compile time; a malformed file is a build error, never a runtime one.
#[allow(clippy::panic)]
const fn parse_table(text: &str) -> [u8; SLOTS] {
    let bytes = text.as_bytes();
    let mut table = [MISSING; SLOTS];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' || bytes[i] == b'\n' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            i += 1;
            continue;
        }
        let mut mv = [0u8; 6];
        let mut k = 0;
        while k < 6 {
            let digit = bytes[i + k];
            if !digit.is_ascii_digit() {
                panic!("macrovector_scores.txt: MacroVector must be six digits");
            }
            mv[k] = digit - b'0';
            k += 1;
        }
        i += 6;
        if bytes[i] != b' ' {
            panic!("macrovector_scores.txt: expected a space after the MacroVector");
        }
        i += 1;
        let mut tenths: u32 = 0;
        let mut decimals = 0;
        let mut seen_point = false;
        while i < bytes.len() && bytes[i] != b'\n' {
            if bytes[i] == b'.' && !seen_point {
                seen_point = true;
            } else if bytes[i].is_ascii_digit() && decimals == 0 {
                tenths = tenths * 10 + (bytes[i] - b'0') as u32;
                if seen_point {
                    decimals = 1;
                }
            } else {
                panic!("macrovector_scores.txt: score must be a number with at most one decimal");
            }
            i += 1;
        }
        if decimals == 0 {
            tenths *= 10;
        }
        if tenths > 100 {
            panic!("macrovector_scores.txt: score above 10");
        }
        match slot(mv) {
            Some(s) if table[s] == MISSING => table[s] = tenths as u8,
            _ => panic!("macrovector_scores.txt: MacroVector out of range or repeated"),
        }
        i += 1;
    }
    table
}

static SCORES: [u8; SLOTS] = parse_table(include_str!("macrovector_scores.txt"));

/// The score, in tenths, of a MacroVector, or `None` if the specification defines no such
/// MacroVector (EQ3=2 with EQ6=0, or a level past the last one).
pub(crate) fn macrovector_score(mv: MacroVector) -> Option<i64> {
    let s = slot(mv)?;
    SCORES
        .get(s)
        .filter(|&&t| t != MISSING)
        .map(|&t| i64::from(t))
}

/// Severity levels, in tenths, as the specification's interpolation measures them: 0 is the most
/// severe value of a metric.
pub(crate) type Levels<const N: usize> = [i64; N];

/// Highest-severity vectors of EQ1 (AV, PR, UI) per level.
pub(crate) const EQ1_MAXIMA: [&[Levels<3>]; 3] = [
    &[[0, 0, 0]],
    &[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    &[[3, 0, 0], [1, 1, 1]],
];

/// Highest-severity vectors of EQ2 (AC, AT) per level.
pub(crate) const EQ2_MAXIMA: [&[Levels<2>]; 2] = [&[[0, 0]], &[[1, 0], [0, 1]]];

/// Highest-severity vectors of the joint EQ3/EQ6 class (VC, VI, VA, CR, IR, AR), indexed by
/// [EQ3][EQ6]; EQ3=2 with EQ6=0 cannot occur.
pub(crate) const EQ3_EQ6_MAXIMA: [[&[Levels<6>]; 2]; 3] = [
    [
        &[[0, 0, 0, 0, 0, 0]],
        &[[0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]],
    ],
    [
        &[[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]],
        &[
            [1, 0, 1, 0, 1, 0],
            [1, 0, 0, 0, 1, 1],
            [0, 1, 0, 1, 0, 1],
            [0, 1, 1, 1, 0, 0],
            [1, 1, 0, 0, 0, 1],
        ],
    ],
    [&[], &[[1, 1, 1, 0, 0, 0]]],
];

/// Highest-severity vectors of EQ4 (SC, SI, SA) per level.
pub(crate) const EQ4_MAXIMA: [&[Levels<3>]; 3] = [&[[1, 0, 0]], &[[1, 1, 1]], &[[2, 2, 2]]];

/// Depth of each class, in tenths: the severity distance from its highest vector to one past
/// its lowest (`max_severity.js`).
pub(crate) const EQ1_DEPTH: [i64; 3] = [1, 4, 5];
pub(crate) const EQ2_DEPTH: [i64; 2] = [1, 2];
pub(crate) const EQ3_EQ6_DEPTH: [[i64; 2]; 3] = [[7, 6], [8, 8], [0, 10]];
pub(crate) const EQ4_DEPTH: [i64; 3] = [6, 5, 4];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_macrovector_of_the_specification_has_a_score() {
        let mut count = 0;
        for a in 0..3 {
            for b in 0..2 {
                for c in 0..3 {
                    for d in 0..3 {
                        for e in 0..3 {
                            for f in 0..2 {
                                let present = macrovector_score([a, b, c, d, e, f]).is_some();
                                assert_eq!(present, !(c == 2 && f == 0), "{a}{b}{c}{d}{e}{f}");
                                count += usize::from(present);
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(count, 270);
    }

    #[test]
    fn known_entries_match_the_published_table() {
        assert_eq!(macrovector_score([0, 0, 0, 0, 0, 0]), Some(100));
        assert_eq!(macrovector_score([1, 0, 2, 2, 2, 1]), Some(13));
        assert_eq!(macrovector_score([2, 1, 2, 2, 2, 1]), Some(1));
        assert_eq!(macrovector_score([0, 0, 2, 0, 0, 0]), None);
        assert_eq!(macrovector_score([3, 0, 0, 0, 0, 0]), None);
    }
}
