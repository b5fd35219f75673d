//! Every line of the fixture files (see `fixtures/README.md`) must score exactly as the
//! independent implementation that produced it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_cvss::{Cvss, Score};

/// `VECTOR - (a, b, c)`, `VECTOR - (a,)` or `VECTOR - a` into the vector and its scores.
fn lines(text: &str) -> Vec<(&str, Vec<Score>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (vector, scores) = line.split_once(" - ").expect("VECTOR - SCORES");
            let scores = scores
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (whole, frac) = s.split_once('.').expect("one decimal");
                    let tenths = whole.parse::<u8>().unwrap() * 10 + frac.parse::<u8>().unwrap();
                    Score::from_tenths(tenths).unwrap()
                })
                .collect();
            (vector, scores)
        })
        .collect()
}

fn check(file: &str, text: &str, expected_lines: usize, score_of: impl Fn(&Cvss) -> Vec<Score>) {
    let cases = lines(text);
    assert_eq!(cases.len(), expected_lines, "{file}: line count");
    let mut failures = Vec::new();
    for (vector, expected) in cases {
        let parsed = Cvss::parse(vector).unwrap_or_else(|e| panic!("{file}: {vector}: {e}"));
        let got = score_of(&parsed);
        if got != expected {
            failures.push(format!("{vector}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{file}:\n{}", failures.join("\n"));
}

#[test]
fn v31_base_temporal_and_environmental_scores_match_the_python_cvss_library() {
    check(
        "vectors_simple31",
        include_str!("fixtures/vectors_simple31"),
        184,
        |c| match c {
            Cvss::V3(v) => vec![v.base_score(), v.temporal_score(), v.environmental_score()],
            Cvss::V4(_) => panic!("not v3"),
        },
    );
}

#[test]
fn v40_base_scores_match_the_python_cvss_library() {
    check(
        "vectors_simple4",
        include_str!("fixtures/vectors_simple4"),
        183,
        |c| vec![c.score()],
    );
}

#[test]
fn v40_threat_scores_match_the_python_cvss_library() {
    check(
        "vectors_threat4",
        include_str!("fixtures/vectors_threat4"),
        6,
        |c| vec![c.score()],
    );
}

#[test]
fn v40_environmental_requirement_scores_match_the_python_cvss_library() {
    check(
        "vectors_security4",
        include_str!("fixtures/vectors_security4"),
        54,
        |c| vec![c.score()],
    );
}
