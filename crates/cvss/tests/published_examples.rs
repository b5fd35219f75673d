//! Scores published for real vulnerabilities and in reference test suites; each case names its
//! source. The v3.1 examples were written down from FIRST's examples document without the
//! document at hand; every vector and score here was then checked against an independent
//! implementation, Red Hat's `cvss` Python library 3.6 (`pip install cvss`; 16 of 16 agree).
//! The fixture files (tests/fixtures, with their provenance) are the authoritative vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_cvss::{Cvss, Severity};

fn base(vector: &str) -> String {
    Cvss::parse(vector)
        .unwrap_or_else(|e| panic!("{vector}: {e}"))
        .base_score()
        .to_string()
}

fn score(vector: &str) -> String {
    Cvss::parse(vector)
        .unwrap_or_else(|e| panic!("{vector}: {e}"))
        .score()
        .to_string()
}

/// FIRST, "Common Vulnerability Scoring System v3.1: Examples" (https://www.first.org/cvss/v3.1/examples).
const V31_EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "CVE-2014-0160 OpenSSL Heartbleed",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "7.5",
    ),
    (
        "CVE-2014-6271 GNU Bash Shellshock",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "9.8",
    ),
    (
        "CVE-2013-1937 phpMyAdmin reflected XSS",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        "6.1",
    ),
    (
        "CVE-2013-0375 MySQL stored SQL injection",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
        "6.4",
    ),
    (
        "CVE-2014-3566 SSLv3 POODLE",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
        "3.1",
    ),
    (
        "CVE-2012-1516 VMware guest to host escape",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
        "9.9",
    ),
    (
        "CVE-2009-0783 Apache Tomcat XML parser",
        "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
        "4.2",
    ),
    (
        "CVE-2012-0384 Cisco IOS command execution",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        "8.8",
    ),
    (
        "CVE-2015-1098 Apple iWork denial of service",
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        "7.8",
    ),
    (
        "CVE-2014-0224 OpenSSL CCS injection",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N",
        "7.4",
    ),
    (
        "CVE-2012-5376 Chrome sandbox bypass",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
        "9.6",
    ),
    (
        "CVE-2016-1645 Chrome PDFium JPEG 2000",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        "8.8",
    ),
    (
        "CVE-2014-2005 Sophos login screen bypass",
        "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "6.8",
    ),
    (
        "CVE-2014-9253 DokuWiki reflected XSS",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        "5.4",
    ),
    (
        "CVE-2011-1265 Windows Bluetooth stack RCE",
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "8.8",
    ),
    (
        "CVE-2014-2019 Apple iOS security control bypass",
        "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
        "4.6",
    ),
];

#[test]
fn v31_examples_from_first_score_as_published() {
    for (name, vector, expected) in V31_EXAMPLES {
        assert_eq!(base(vector), *expected, "{name}: {vector}");
    }
}

#[test]
fn apache_struts_cve_2017_5638_is_critical_10() {
    // NVD's CVSS v3.0 assessment of CVE-2017-5638 (Apache Struts 2 Jakarta multipart parser).
    let v = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
    assert_eq!(base(v), "10.0");
    assert_eq!(Cvss::parse(v).unwrap().severity(), Severity::Critical);
}

#[test]
fn heartbleed_rates_high() {
    let v = Cvss::parse(V31_EXAMPLES[0].1).unwrap();
    assert_eq!(v.severity(), Severity::High);
}

#[test]
fn v31_temporal_metrics_lower_the_temporal_score_only() {
    // Heartbleed with E:H/RL:O/RC:C: 7.5 * 1 * 0.95 * 1 = 7.125, rounded up to 7.2 (v3.1 spec
    // section 7.2 temporal equation).
    let v = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:H/RL:O/RC:C").unwrap();
    assert_eq!(v.base_score().to_string(), "7.5");
    assert_eq!(v.score().to_string(), "7.2");
}

/// RedHatProductSecurity/cvss, tests/test_cvss4.py (commit 370b273c3f3cdd3d9476f88e5574740d34a2c876),
/// `test_json_schema_*`: single-metric vectors with their CVSS v4.0 scores.
#[test]
fn v40_scores_from_the_python_cvss_library_tests() {
    assert_eq!(
        score("CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"),
        "0.0"
    );
    assert_eq!(
        score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"),
        "8.7"
    );
    assert_eq!(
        score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N/AR:L"),
        "7.9"
    );
    assert_eq!(
        score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/MSI:H"),
        "7.7"
    );
}

#[test]
fn v40_highest_macrovector_scores_ten() {
    // MacroVector 000000 is 10 in the specification's lookup table; the vector with every
    // metric at its most severe value is its highest vector.
    assert_eq!(
        score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"),
        "10.0"
    );
    // SC/SI/SA:H without Safety is EQ4 level 1, and MacroVector 000100 is also 10. With E:U the
    // vector moves to MacroVector 000120, whose highest vector it is: exactly 9.1.
    let v =
        Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U").unwrap();
    assert_eq!(v.score().to_string(), "9.1");
    assert_eq!(v.base_score().to_string(), "10.0");
}

/// RedHatProductSecurity/cvss, tests/test_cvss4.py `test_severity` (same commit): full vectors
/// with threat, environmental and supplemental metrics, in a non-canonical order, and the
/// severity of their CVSS-BTE score.
const V40_SEVERITIES: &[(&str, Severity)] = &[
    ("CVSS:4.0/AV:L/AC:H/AT:P/PR:N/UI:P/VC:H/VI:N/VA:N/SC:N/SI:N/AU:N/SA:N/S:P/R:A/V:D/RE:L/U:Red/MAV:L/MAC:L/MAT:N/MPR:L/MUI:A/MVC:L/MVI:N/MVA:H/MSC:H/MSI:L/MSA:N/CR:H/IR:L/AR:L/E:P", Severity::Low),
    ("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:P/VC:N/VI:L/VA:L/SC:H/SI:N/AU:Y/SA:N/S:N/R:I/V:C/RE:M/U:Amber/MAV:L/MAC:H/MAT:P/MPR:N/MUI:P/MVC:L/MVI:N/MVA:H/MSC:H/MSI:H/MSA:S/CR:M/IR:M/AR:M/E:A", Severity::High),
    ("CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:L/SI:N/AU:Y/SA:L/S:P/R:U/V:D/RE:M/U:Red/MAV:N/MAC:H/MAT:P/MPR:H/MUI:P/MVC:L/MVI:H/MVA:L/MSC:N/MSI:H/MSA:H/CR:L/IR:H/AR:M/E:U", Severity::Low),
    ("CVSS:4.0/AV:A/AC:H/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:H/AU:N/SA:L/S:P/R:U/V:D/RE:H/U:Clear/MAV:A/MAC:L/MAT:N/MPR:N/MUI:P/MVC:N/MVI:L/MVA:L/MSC:H/MSI:N/MSA:L/CR:M/IR:M/AR:L/E:U", Severity::Low),
    ("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:A/VC:H/VI:H/VA:N/SC:H/SI:N/AU:Y/SA:N/S:N/R:I/V:C/RE:L/U:Green/MAV:L/MAC:L/MAT:N/MPR:H/MUI:P/MVC:L/MVI:L/MVA:N/MSC:H/MSI:H/MSA:S/CR:H/IR:H/AR:H/E:P", Severity::Medium),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:H/SC:H/SI:L/AU:Y/SA:H/S:N/R:U/V:C/RE:M/U:Amber/MAV:L/MAC:H/MAT:N/MPR:H/MUI:N/MVC:N/MVI:L/MVA:N/MSC:L/MSI:S/MSA:H/CR:H/IR:M/AR:M/E:A", Severity::Medium),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L", Severity::Medium),
    ("CVSS:4.0/AV:A/AC:H/AT:P/PR:N/UI:P/VC:N/VI:L/VA:N/SC:H/SI:H/AU:N/SA:N/S:N/R:A/V:C/RE:M/U:Green/MAV:L/MAC:L/MAT:P/MPR:L/MUI:A/MVC:N/MVI:L/MVA:H/MSC:L/MSI:N/MSA:S/CR:L/IR:L/AR:M/E:P", Severity::Low),
    ("CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:A/VC:H/VI:N/VA:H/SC:L/SI:N/AU:N/SA:H/S:P/R:I/V:D/RE:M/U:Red/MAV:N/MAC:L/MAT:N/MPR:N/MUI:N/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/CR:H/IR:H/AR:H/E:U", Severity::Critical),
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:P/VC:L/VI:N/VA:H/SC:L/SI:N/AU:Y/SA:H/S:P/R:I/V:D/RE:H/U:Green/MAV:A/MAC:L/MAT:N/MPR:N/MUI:A/MVC:L/MVI:H/MVA:H/MSC:N/MSI:H/MSA:L/CR:L/IR:H/AR:L/E:U", Severity::Medium),
    ("CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:N/VC:L/VI:N/VA:H/SC:L/SI:H/AU:N/SA:H/S:P/R:U/V:C/RE:H/U:Red/MAV:L/MAC:L/MAT:P/MPR:L/MUI:P/MVC:N/MVI:N/MVA:N/MSC:N/MSI:N/MSA:N/CR:H/IR:H/AR:H/E:P", Severity::Info),
];

#[test]
fn v40_full_vectors_rate_as_the_python_cvss_library_does() {
    for (vector, expected) in V40_SEVERITIES {
        let Cvss::V4(v) = Cvss::parse(vector).unwrap() else {
            panic!("not v4");
        };
        assert_eq!(v.severity(), *expected, "{vector} scored {}", v.score());
        if vector.contains("/E:") {
            assert_eq!(v.nomenclature().as_str(), "CVSS-BTE", "{vector}");
        }
    }
}

#[test]
fn v40_nomenclature_follows_the_metric_groups_present() {
    let b = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    let name = |s: &str| match Cvss::parse(s).unwrap() {
        Cvss::V4(v) => v.nomenclature().as_str(),
        Cvss::V3(_) => panic!("not v4"),
    };
    assert_eq!(name(b), "CVSS-B");
    assert_eq!(name(&format!("{b}/E:P")), "CVSS-BT");
    assert_eq!(name(&format!("{b}/MAV:L")), "CVSS-BE");
    assert_eq!(name(&format!("{b}/E:P/CR:L")), "CVSS-BTE");
    // X is Not Defined and supplemental metrics never count.
    assert_eq!(name(&format!("{b}/E:X/CR:X/AU:Y")), "CVSS-B");
}
