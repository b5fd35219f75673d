//! Properties over every base vector, and the errors for every way a vector can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_cvss::{Cvss, CvssError, Score, MAX_VECTOR_LEN};

const V3_BASE: [(&str, &[&str]); 8] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "R"]),
    ("S", &["U", "C"]),
    ("C", &["H", "L", "N"]),
    ("I", &["H", "L", "N"]),
    ("A", &["H", "L", "N"]),
];

const V4_BASE: [(&str, &[&str]); 11] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
];

/// Every combination of values, as `METRIC:VALUE` lists.
fn combinations(metrics: &[(&'static str, &[&'static str])]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for (metric, values) in metrics {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(format!("{metric}:{v}"));
                    next
                })
            })
            .collect();
    }
    out
}

fn assert_one_decimal_in_range(score: Score, vector: &str) {
    assert!(score.tenths() <= 100, "{vector}");
    let text = score.to_string();
    let (whole, frac) = text.split_once('.').unwrap();
    assert_eq!(frac.len(), 1, "{vector}: {text}");
    assert!(whole.parse::<u8>().unwrap() <= 10, "{vector}: {text}");
    assert!((0.0..=10.0).contains(&score.value()), "{vector}");
}

#[test]
fn every_v3_base_vector_scores_in_range_with_one_decimal() {
    let all = combinations(&V3_BASE);
    assert_eq!(all.len(), 2592);
    for version in ["3.0", "3.1"] {
        for parts in &all {
            let vector = format!("CVSS:{version}/{}", parts.join("/"));
            let v = Cvss::parse(&vector).unwrap();
            assert_one_decimal_in_range(v.base_score(), &vector);
            assert_one_decimal_in_range(v.score(), &vector);
            let no_impact = parts.ends_with(&["C:N".into(), "I:N".into(), "A:N".into()]);
            assert_eq!(v.base_score() == Score::ZERO, no_impact, "{vector}");
        }
    }
}

#[test]
fn every_v4_base_vector_scores_in_range_with_one_decimal() {
    let all = combinations(&V4_BASE);
    assert_eq!(all.len(), 104_976);
    for parts in &all {
        let vector = format!("CVSS:4.0/{}", parts.join("/"));
        let v = Cvss::parse(&vector).unwrap();
        assert_one_decimal_in_range(v.score(), &vector);
        assert_eq!(v.score(), v.base_score(), "{vector}");
    }
}

#[test]
fn raising_one_v3_impact_never_lowers_the_score() {
    for parts in combinations(&V3_BASE) {
        let vector = format!("CVSS:3.1/{}", parts.join("/"));
        let score = Cvss::parse(&vector).unwrap().base_score();
        for (metric, lower, higher) in [("C", "N", "L"), ("C", "L", "H"), ("A", "N", "L")] {
            let from = format!("/{metric}:{lower}");
            if vector.contains(&from) {
                let raised = vector.replace(&from, &format!("/{metric}:{higher}"));
                let raised_score = Cvss::parse(&raised).unwrap().base_score();
                assert!(raised_score >= score, "{vector} -> {raised}");
            }
        }
    }
}

#[test]
fn metric_order_does_not_change_the_score() {
    for (prefix, metrics) in [("CVSS:3.1", &V3_BASE[..]), ("CVSS:4.0", &V4_BASE[..])] {
        for parts in combinations(metrics).iter().step_by(37) {
            let forward = format!("{prefix}/{}", parts.join("/"));
            let mut reversed = parts.clone();
            reversed.reverse();
            let backward = format!("{prefix}/{}", reversed.join("/"));
            assert_eq!(
                Cvss::parse(&forward).unwrap(),
                Cvss::parse(&backward).unwrap(),
                "{forward}"
            );
        }
    }
}

const HEARTBLEED: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
const V4_VECTOR: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

fn error(vector: &str) -> CvssError {
    Cvss::parse(vector).expect_err(vector)
}

#[test]
fn each_missing_base_metric_is_named() {
    for (prefix, metrics, full) in [
        ("CVSS:3.1", &V3_BASE[..], HEARTBLEED),
        ("CVSS:4.0", &V4_BASE[..], V4_VECTOR),
    ] {
        for (metric, _) in metrics {
            let rest: Vec<&str> = full
                .trim_start_matches(prefix)
                .trim_start_matches('/')
                .split('/')
                .filter(|p| !p.starts_with(&format!("{metric}:")))
                .collect();
            let vector = format!("{prefix}/{}", rest.join("/"));
            let e = error(&vector);
            assert_eq!(e, CvssError::MissingMetric(metric), "{vector}");
            assert_eq!(
                e.to_string(),
                format!("mandatory base metric {metric} is missing")
            );
        }
    }
}

#[test]
fn a_version_prefix_alone_misses_metrics() {
    assert!(matches!(error("CVSS:3.1"), CvssError::MissingMetric(_)));
    assert!(matches!(error("CVSS:4.0"), CvssError::MissingMetric(_)));
}

#[test]
fn duplicate_metrics_are_refused() {
    let e = error(&format!("{HEARTBLEED}/AV:N"));
    assert_eq!(e, CvssError::DuplicateMetric("AV".into()));
    assert_eq!(e.to_string(), "metric AV appears more than once");
    let e = error(&format!("{V4_VECTOR}/E:A/E:P"));
    assert_eq!(e, CvssError::DuplicateMetric("E".into()));
}

#[test]
fn unknown_metrics_are_refused_per_version() {
    let e = error(&format!("{HEARTBLEED}/AT:N"));
    assert_eq!(e.to_string(), "unknown metric \"AT\" for CVSS 3.1");
    let e = error(&format!("{V4_VECTOR}/RL:O"));
    assert_eq!(e.to_string(), "unknown metric \"RL\" for CVSS 4.0");
    // v3 Scope does not exist in v4.
    assert_eq!(error(&format!("{V4_VECTOR}/S:U")).kind(), "unknown_value");
    assert_eq!(error(&format!("{V4_VECTOR}/JJ:H")).kind(), "unknown_metric");
}

#[test]
fn unknown_values_list_the_allowed_ones() {
    let e = error("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
    assert_eq!(
        e.to_string(),
        "metric AV has unknown value \"X\" (allowed: N/A/L/P)"
    );
    let e = error(&V4_VECTOR.replace("SA:N", "SA:J"));
    assert_eq!(
        e.to_string(),
        "metric SA has unknown value \"J\" (allowed: H/L/N)"
    );
    let e = error(&format!("{V4_VECTOR}/MSI:Q"));
    assert_eq!(
        e.to_string(),
        "metric MSI has unknown value \"Q\" (allowed: S/H/L/N/X)"
    );
    // Values are case-sensitive, as the specification writes them.
    assert_eq!(
        error(&HEARTBLEED.replace("AV:N", "AV:n")).kind(),
        "unknown_value"
    );
    // Safety exists only as a modified value.
    assert_eq!(
        error(&V4_VECTOR.replace("SI:N", "SI:S")).kind(),
        "unknown_value"
    );
}

#[test]
fn malformed_input_is_refused() {
    assert_eq!(error(""), CvssError::Empty);
    assert_eq!(error("   "), CvssError::Empty);
    assert_eq!(
        error("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
        CvssError::UnsupportedVersion("AV:N".into())
    );
    assert_eq!(error("CVSS:2.0/AV:N").kind(), "unsupported_version");
    assert_eq!(error("CVSS:3.2/AV:N").kind(), "unsupported_version");
    assert_eq!(
        error(&format!("{HEARTBLEED}/")).kind(),
        "malformed_component"
    );
    assert_eq!(
        error(&HEARTBLEED.replace("/AC:L", "/AC")).kind(),
        "malformed_component"
    );
    assert_eq!(
        error(&HEARTBLEED.replace("/", "//")).kind(),
        "malformed_component"
    );
    let long = format!("{HEARTBLEED}{}", "/E:X".repeat(MAX_VECTOR_LEN));
    assert!(matches!(error(&long), CvssError::TooLong { .. }));
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let padded = format!("  {HEARTBLEED}\n");
    assert_eq!(
        Cvss::parse(&padded).unwrap().base_score().to_string(),
        "7.5"
    );
}

#[test]
fn every_error_kind_is_distinct() {
    let kinds = [
        error("").kind(),
        error(&"x".repeat(MAX_VECTOR_LEN + 1)).kind(),
        error("CVSS:9.9").kind(),
        error("CVSS:3.1/AV").kind(),
        error(&format!("{HEARTBLEED}/AV:N")).kind(),
        error(&format!("{HEARTBLEED}/ZZ:N")).kind(),
        error(&HEARTBLEED.replace("AV:N", "AV:Z")).kind(),
        error("CVSS:3.1/AV:N").kind(),
    ];
    let mut sorted = kinds.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), kinds.len(), "{kinds:?}");
}

#[test]
fn v3_environmental_x_values_are_not_defined() {
    let plain = Cvss::parse(HEARTBLEED).unwrap();
    let with_x = Cvss::parse(&format!("{HEARTBLEED}/E:X/RL:X/RC:X/CR:X/MAV:X/MS:X")).unwrap();
    assert_eq!(plain.score(), with_x.score());
    let Cvss::V3(v) = with_x else {
        panic!("not v3")
    };
    assert!(!v.has_environmental());
}
