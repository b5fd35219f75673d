//! CVSS v4.0 scoring (specification section 8.2): the vector's MacroVector gives the score of the
//! highest-severity vector in its class; the score moves down from there in proportion to how far
//! the vector is from that highest vector, relative to the depth of the class and to the score
//! gap to the next lower MacroVector, averaged over the EQs that have a lower MacroVector.
//!
//! The arithmetic is exact: severity levels are integers (tenths), scores are tenths, and the
//! mean is kept as a fraction until the final round-half-up to one decimal, so no input lands on
//! the wrong side of an x.x5 tie.

use super::table::{
    macrovector_score, Levels, MacroVector, EQ1_DEPTH, EQ1_MAXIMA, EQ2_DEPTH, EQ2_MAXIMA,
    EQ3_EQ6_DEPTH, EQ3_EQ6_MAXIMA, EQ4_DEPTH, EQ4_MAXIMA,
};
use super::{
    AttackComplexity, AttackRequirements, AttackVector, CvssV4, ExploitMaturity, Impact,
    PrivilegesRequired, Requirement, SubsequentImpact, UserInteraction,
};
use crate::Score;

/// Severity levels of the effective metric values (modified metrics override base ones,
/// Not Defined threat and requirement metrics take their worst case).
#[derive(Debug, Clone, Copy)]
struct Effective {
    exploitability: Levels<3>, // AV, PR, UI
    complexity: Levels<2>,     // AC, AT
    vulnerable: Levels<6>,     // VC, VI, VA, CR, IR, AR
    subsequent: Levels<3>,     // SC, SI, SA
    exploit_maturity: u8,      // EQ5 directly
}

fn av(v: AttackVector) -> i64 {
    match v {
        AttackVector::Network => 0,
        AttackVector::Adjacent => 1,
        AttackVector::Local => 2,
        AttackVector::Physical => 3,
    }
}

fn pr(v: PrivilegesRequired) -> i64 {
    match v {
        PrivilegesRequired::None => 0,
        PrivilegesRequired::Low => 1,
        PrivilegesRequired::High => 2,
    }
}

fn ui(v: UserInteraction) -> i64 {
    match v {
        UserInteraction::None => 0,
        UserInteraction::Passive => 1,
        UserInteraction::Active => 2,
    }
}

fn ac(v: AttackComplexity) -> i64 {
    match v {
        AttackComplexity::Low => 0,
        AttackComplexity::High => 1,
    }
}

fn at(v: AttackRequirements) -> i64 {
    match v {
        AttackRequirements::None => 0,
        AttackRequirements::Present => 1,
    }
}

fn vuln(v: Impact) -> i64 {
    match v {
        Impact::High => 0,
        Impact::Low => 1,
        Impact::None => 2,
    }
}

/// Subsequent-system levels start at 1: level 0 is Safety, reachable only through MSI/MSA.
fn subsequent(v: Impact) -> i64 {
    vuln(v) + 1
}

fn subsequent_modified(v: SubsequentImpact) -> i64 {
    match v {
        SubsequentImpact::Safety => 0,
        SubsequentImpact::High => 1,
        SubsequentImpact::Low => 2,
        SubsequentImpact::None => 3,
    }
}

fn requirement(v: Option<Requirement>) -> i64 {
    match v {
        None | Some(Requirement::High) => 0,
        Some(Requirement::Medium) => 1,
        Some(Requirement::Low) => 2,
    }
}

fn effective(v: &CvssV4) -> Effective {
    let (b, m) = (&v.base, &v.environmental);
    Effective {
        exploitability: [
            av(m.mav.unwrap_or(b.av)),
            pr(m.mpr.unwrap_or(b.pr)),
            ui(m.mui.unwrap_or(b.ui)),
        ],
        complexity: [ac(m.mac.unwrap_or(b.ac)), at(m.mat.unwrap_or(b.at))],
        vulnerable: [
            vuln(m.mvc.unwrap_or(b.vc)),
            vuln(m.mvi.unwrap_or(b.vi)),
            vuln(m.mva.unwrap_or(b.va)),
            requirement(m.cr),
            requirement(m.ir),
            requirement(m.ar),
        ],
        subsequent: [
            subsequent(m.msc.unwrap_or(b.sc)),
            m.msi.map_or(subsequent(b.si), subsequent_modified),
            m.msa.map_or(subsequent(b.sa), subsequent_modified),
        ],
        exploit_maturity: match v.exploit_maturity {
            None | Some(ExploitMaturity::Attacked) => 0,
            Some(ExploitMaturity::ProofOfConcept) => 1,
            Some(ExploitMaturity::Unreported) => 2,
        },
    }
}

/// The EQ levels of section 8.2, Table 24.
fn macrovector(e: &Effective) -> MacroVector {
    let [av, pr, ui] = e.exploitability;
    let eq1 = if av == 0 && pr == 0 && ui == 0 {
        0
    } else if (av == 0 || pr == 0 || ui == 0) && av != 3 {
        1
    } else {
        2
    };
    let eq2 = u8::from(e.complexity != [0, 0]);
    let [vc, vi, va, cr, ir, ar] = e.vulnerable;
    let eq3 = if vc == 0 && vi == 0 {
        0
    } else if vc == 0 || vi == 0 || va == 0 {
        1
    } else {
        2
    };
    let [sc, si, sa] = e.subsequent;
    let eq4 = if si == 0 || sa == 0 {
        0
    } else if sc == 1 || si == 1 || sa == 1 {
        1
    } else {
        2
    };
    let eq6 = u8::from(!((cr == 0 && vc == 0) || (ir == 0 && vi == 0) || (ar == 0 && va == 0)));
    [eq1, eq2, eq3, eq4, e.exploit_maturity, eq6]
}

/// Severity distance from the first highest-severity vector of the class that is at least as
/// severe as `levels` in every metric. The specification guarantees one exists; should none,
/// the last one is used, as in FIRST's calculator.
fn distance<const N: usize>(levels: Levels<N>, maxima: &[Levels<N>]) -> i64 {
    let diff = |max: &Levels<N>| -> Levels<N> {
        let mut d = [0; N];
        for ((d, l), m) in d.iter_mut().zip(levels).zip(max) {
            *d = l - m;
        }
        d
    };
    maxima
        .iter()
        .map(diff)
        .find(|d| d.iter().all(|x| *x >= 0))
        .or_else(|| maxima.last().map(diff))
        .map_or(0, |d| d.iter().sum())
}

/// The next lower MacroVector's score on the joint EQ3/EQ6 axis; from 00 there are two
/// neighbours and the higher-scoring one counts.
fn lower_eq3_eq6(mv: MacroVector) -> Option<i64> {
    let with = |eq3: u8, eq6: u8| {
        let mut next = mv;
        next[2] = eq3;
        next[5] = eq6;
        macrovector_score(next)
    };
    match (mv[2], mv[5]) {
        (0, 0) => with(0, 1).max(with(1, 0)),
        (1, 0) => with(1, 1),
        (eq3, eq6) => with(eq3 + 1, eq6),
    }
}

fn lower(mv: MacroVector, eq: usize) -> Option<i64> {
    let mut next = mv;
    next[eq] += 1;
    macrovector_score(next)
}

pub(crate) fn score(v: &CvssV4) -> Score {
    let e = effective(v);
    // No impact on any system: the specification scores 0 whatever the exploitability.
    if e.vulnerable[..3] == [2, 2, 2] && e.subsequent == [3, 3, 3] {
        return Score::ZERO;
    }
    let mv = macrovector(&e);
    // Every combination of EQ levels that `macrovector` can produce is in the table.
    let Some(value) = macrovector_score(mv) else {
        return Score::ZERO;
    };
    let [eq1, eq2, eq3, eq4, _, eq6] = mv.map(usize::from);
    // (score gap to the next lower MacroVector, distance, depth) per EQ; EQ5 has no distance
    // within a class but still counts in the mean.
    let axes = [
        (
            lower(mv, 0),
            distance(e.exploitability, EQ1_MAXIMA[eq1]),
            EQ1_DEPTH[eq1],
        ),
        (
            lower(mv, 1),
            distance(e.complexity, EQ2_MAXIMA[eq2]),
            EQ2_DEPTH[eq2],
        ),
        (
            lower_eq3_eq6(mv),
            distance(e.vulnerable, EQ3_EQ6_MAXIMA[eq3][eq6]),
            EQ3_EQ6_DEPTH[eq3][eq6],
        ),
        (
            lower(mv, 3),
            distance(e.subsequent, EQ4_MAXIMA[eq4]),
            EQ4_DEPTH[eq4],
        ),
        (lower(mv, 4), 0, 1),
    ];
    // Common denominator of every depth (1, 2, 4, 5, 6, 7, 8, 10).
    const LCM: i64 = 840;
    let mut n = 0;
    let mut drop = 0; // in tenths, times LCM
    for (lower, dist, depth) in axes {
        if let Some(lower) = lower {
            n += 1;
            drop += (value - lower) * dist * (LCM / depth.max(1));
        }
    }
    if n == 0 {
        return Score::clamped(value);
    }
    // value - drop / (LCM * n), rounded half up to a whole tenth.
    let den = LCM * n;
    let num = value * den - drop;
    if num <= 0 {
        return Score::ZERO;
    }
    Score::clamped((2 * num + den) / (2 * den))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v4::{BaseMetrics, EnvironmentalMetrics, SupplementalMetrics};

    fn every_base_vector() -> impl Iterator<Item = CvssV4> {
        let mut all = Vec::new();
        for &av in AttackVector::ALL {
            for &ac in AttackComplexity::ALL {
                for &at in AttackRequirements::ALL {
                    for &pr in PrivilegesRequired::ALL {
                        for &ui in UserInteraction::ALL {
                            for i in 0..729 {
                                let imp = |k: u32| Impact::ALL[(i / 3usize.pow(k)) % 3];
                                all.push(CvssV4 {
                                    base: BaseMetrics {
                                        av,
                                        ac,
                                        at,
                                        pr,
                                        ui,
                                        vc: imp(0),
                                        vi: imp(1),
                                        va: imp(2),
                                        sc: imp(3),
                                        si: imp(4),
                                        sa: imp(5),
                                    },
                                    exploit_maturity: None,
                                    environmental: EnvironmentalMetrics::default(),
                                    supplemental: SupplementalMetrics::default(),
                                });
                            }
                        }
                    }
                }
            }
        }
        all.into_iter()
    }

    fn dominated<const N: usize>(levels: Levels<N>, maxima: &[Levels<N>]) -> bool {
        maxima
            .iter()
            .any(|m| levels.iter().zip(m).all(|(l, m)| l >= m))
    }

    #[test]
    fn every_base_vector_lies_below_a_highest_vector_of_its_macrovector() {
        let mut count = 0;
        for v in every_base_vector() {
            let e = effective(&v);
            let [eq1, eq2, eq3, eq4, _, eq6] = macrovector(&e).map(usize::from);
            assert!(dominated(e.exploitability, EQ1_MAXIMA[eq1]), "{v:?}");
            assert!(dominated(e.complexity, EQ2_MAXIMA[eq2]), "{v:?}");
            assert!(dominated(e.vulnerable, EQ3_EQ6_MAXIMA[eq3][eq6]), "{v:?}");
            assert!(dominated(e.subsequent, EQ4_MAXIMA[eq4]), "{v:?}");
            count += 1;
        }
        assert_eq!(count, 104_976);
    }

    #[test]
    fn every_base_vector_scores_within_its_range_and_zero_only_without_impact() {
        for v in every_base_vector() {
            let s = score(&v).tenths();
            assert!(s <= 100, "{v:?}");
            let b = &v.base;
            let no_impact = [b.vc, b.vi, b.va, b.sc, b.si, b.sa]
                .iter()
                .all(|i| *i == Impact::None);
            assert_eq!(s == 0, no_impact, "{v:?} scored {s}");
        }
    }
}
