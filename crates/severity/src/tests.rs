#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn orders_from_unknown_to_critical() {
    let mut shuffled = [
        Severity::High,
        Severity::Unknown,
        Severity::Critical,
        Severity::Low,
        Severity::Info,
        Severity::Medium,
    ];
    shuffled.sort();
    assert_eq!(shuffled, Severity::ALL);
    assert!(Severity::Critical > Severity::High);
    assert!(Severity::Info > Severity::Unknown);
    assert_eq!(Severity::ALL.iter().max(), Some(&Severity::Critical));
}

#[test]
fn display_and_parse_round_trip() {
    for s in Severity::ALL {
        assert_eq!(s.to_string(), s.name());
        assert_eq!(s.to_string().parse::<Severity>(), Ok(s));
        assert_eq!(Severity::from_name(s.name()), Some(s));
        assert_eq!(
            Severity::parse(&format!(" {} ", s.name().to_uppercase())),
            Some(s)
        );
    }
    let names: Vec<_> = Severity::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        ["unknown", "info", "low", "medium", "high", "critical"]
    );
}

#[test]
fn from_name_takes_only_the_exact_lowercase_name() {
    assert_eq!(Severity::from_name("High"), None);
    assert_eq!(Severity::from_name(" high"), None);
    assert_eq!(Severity::from_name("none"), None);
    assert_eq!(Severity::from_name(""), None);
}

#[test]
fn unknown_names_are_refused_with_the_list() {
    let err = "severe".parse::<Severity>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"severe\": severities are unknown, info, low, medium, high, critical"
    );
    assert_eq!(Severity::parse(""), None);
}

#[test]
fn cvss_scores_rate_by_the_specification_bands() {
    let cases = [
        (0, Severity::Info),
        (1, Severity::Low),
        (39, Severity::Low),
        (40, Severity::Medium),
        (69, Severity::Medium),
        (70, Severity::High),
        (89, Severity::High),
        (90, Severity::Critical),
        (100, Severity::Critical),
    ];
    for (tenths, want) in cases {
        assert_eq!(Severity::from_cvss_tenths(tenths), want, "{tenths} tenths");
    }
}

#[cfg(feature = "serde")]
#[test]
fn serializes_as_the_lowercase_name() {
    for s in Severity::ALL {
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.name()));
        assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), s);
    }
    assert!(serde_json::from_str::<Severity>("\"High\"").is_err());
}
