//! The CVSS v3.x equations. Weights are the specification's constants; results are rounded with
//! the version's Roundup and returned in tenths.

use super::{
    AttackComplexity, AttackVector, CvssV3, ExploitMaturity, Impact, MinorVersion,
    PrivilegesRequired, RemediationLevel, ReportConfidence, Requirement, Scope, UserInteraction,
};
use crate::Score;

fn av(v: AttackVector) -> f64 {
    match v {
        AttackVector::Network => 0.85,
        AttackVector::Adjacent => 0.62,
        AttackVector::Local => 0.55,
        AttackVector::Physical => 0.2,
    }
}

fn ac(v: AttackComplexity) -> f64 {
    match v {
        AttackComplexity::Low => 0.77,
        AttackComplexity::High => 0.44,
    }
}

/// Privileges Required weighs more when the scope changes.
fn pr(v: PrivilegesRequired, scope: Scope) -> f64 {
    match (v, scope) {
        (PrivilegesRequired::None, _) => 0.85,
        (PrivilegesRequired::Low, Scope::Unchanged) => 0.62,
        (PrivilegesRequired::Low, Scope::Changed) => 0.68,
        (PrivilegesRequired::High, Scope::Unchanged) => 0.27,
        (PrivilegesRequired::High, Scope::Changed) => 0.5,
    }
}

fn ui(v: UserInteraction) -> f64 {
    match v {
        UserInteraction::None => 0.85,
        UserInteraction::Required => 0.62,
    }
}

fn cia(v: Impact) -> f64 {
    match v {
        Impact::High => 0.56,
        Impact::Low => 0.22,
        Impact::None => 0.0,
    }
}

fn e(v: ExploitMaturity) -> f64 {
    match v {
        ExploitMaturity::NotDefined | ExploitMaturity::High => 1.0,
        ExploitMaturity::Functional => 0.97,
        ExploitMaturity::ProofOfConcept => 0.94,
        ExploitMaturity::Unproven => 0.91,
    }
}

fn rl(v: RemediationLevel) -> f64 {
    match v {
        RemediationLevel::NotDefined | RemediationLevel::Unavailable => 1.0,
        RemediationLevel::Workaround => 0.97,
        RemediationLevel::TemporaryFix => 0.96,
        RemediationLevel::OfficialFix => 0.95,
    }
}

fn rc(v: ReportConfidence) -> f64 {
    match v {
        ReportConfidence::NotDefined | ReportConfidence::Confirmed => 1.0,
        ReportConfidence::Reasonable => 0.96,
        ReportConfidence::Unknown => 0.92,
    }
}

fn req(v: Requirement) -> f64 {
    match v {
        Requirement::NotDefined | Requirement::Medium => 1.0,
        Requirement::High => 1.5,
        Requirement::Low => 0.5,
    }
}

/// Roundup to one decimal, in tenths.
///
/// v3.1 (Appendix A) goes through an integer of 1/100000ths so that values such as
/// 4.000000000000001, produced by binary floating point, do not round up to 4.1.
/// v3.0 defines Roundup as the smallest one-decimal number not below the input.
pub(crate) fn roundup(version: MinorVersion, x: f64) -> i64 {
    match version {
        MinorVersion::V3_1 => {
            // The cast rounds first; inputs are within 0..=10.8, far inside i64.
            let int_input = (x * 100_000.0).round() as i64;
            if int_input % 10_000 == 0 {
                int_input / 10_000
            } else {
                int_input.div_euclid(10_000) + 1
            }
        }
        MinorVersion::V3_0 => (x * 10.0).ceil() as i64,
    }
}

fn tenths_to_f64(t: i64) -> f64 {
    // Scores are at most 100 tenths, exactly representable.
    t as f64 / 10.0
}

/// Impact and exploitability sub-scores combined as in the base equation, before the final
/// Roundup, or `None` when the impact is not positive (score 0).
fn combine(impact: f64, exploitability: f64, scope: Scope) -> Option<f64> {
    if impact <= 0.0 {
        return None;
    }
    Some(match scope {
        Scope::Unchanged => (impact + exploitability).min(10.0),
        Scope::Changed => (1.08 * (impact + exploitability)).min(10.0),
    })
}

fn base_tenths(v: &CvssV3) -> i64 {
    let b = &v.base;
    let iss = 1.0 - (1.0 - cia(b.c)) * (1.0 - cia(b.i)) * (1.0 - cia(b.a));
    let impact = match b.s {
        Scope::Unchanged => 6.42 * iss,
        Scope::Changed => 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15),
    };
    let exploitability = 8.22 * av(b.av) * ac(b.ac) * pr(b.pr, b.s) * ui(b.ui);
    combine(impact, exploitability, b.s).map_or(0, |x| roundup(v.version, x))
}

fn temporal_factor(v: &CvssV3) -> f64 {
    e(v.temporal.e) * rl(v.temporal.rl) * rc(v.temporal.rc)
}

pub(crate) fn base(v: &CvssV3) -> Score {
    Score::clamped(base_tenths(v))
}

pub(crate) fn temporal(v: &CvssV3) -> Score {
    let base = tenths_to_f64(base_tenths(v));
    Score::clamped(roundup(v.version, base * temporal_factor(v)))
}

pub(crate) fn environmental(v: &CvssV3) -> Score {
    let (b, m) = (&v.base, &v.environmental);
    let scope = m.ms.unwrap_or(b.s);
    let (mc, mi, ma) = (
        m.mc.unwrap_or(b.c),
        m.mi.unwrap_or(b.i),
        m.ma.unwrap_or(b.a),
    );
    let miss = (1.0
        - (1.0 - req(m.cr) * cia(mc)) * (1.0 - req(m.ir) * cia(mi)) * (1.0 - req(m.ar) * cia(ma)))
    .min(0.915);
    let impact = match (scope, v.version) {
        (Scope::Unchanged, _) => 6.42 * miss,
        (Scope::Changed, MinorVersion::V3_1) => {
            7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powi(13)
        }
        (Scope::Changed, MinorVersion::V3_0) => {
            7.52 * (miss - 0.029) - 3.25 * (miss - 0.02).powi(15)
        }
    };
    let exploitability = 8.22
        * av(m.mav.unwrap_or(b.av))
        * ac(m.mac.unwrap_or(b.ac))
        * pr(m.mpr.unwrap_or(b.pr), scope)
        * ui(m.mui.unwrap_or(b.ui));
    let tenths = combine(impact, exploitability, scope).map_or(0, |x| {
        let rounded = tenths_to_f64(roundup(v.version, x));
        roundup(v.version, rounded * temporal_factor(v))
    });
    Score::clamped(tenths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v31_roundup_ignores_floating_point_noise() {
        // Appendix A's own example: 4.000000000000001 must round to 4.0, not 4.1.
        assert_eq!(roundup(MinorVersion::V3_1, 4.000_000_000_000_001), 40);
        assert_eq!(roundup(MinorVersion::V3_1, 4.02), 41);
        assert_eq!(roundup(MinorVersion::V3_1, 4.0), 40);
        assert_eq!(roundup(MinorVersion::V3_1, 0.000_01), 1);
    }

    #[test]
    fn v30_roundup_is_the_plain_ceiling() {
        assert_eq!(roundup(MinorVersion::V3_0, 4.02), 41);
        assert_eq!(roundup(MinorVersion::V3_0, 4.0), 40);
    }
}
