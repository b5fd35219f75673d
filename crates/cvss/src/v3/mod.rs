//! CVSS v3.0 and v3.1 vectors: parsing and the base, temporal and environmental equations
//! (CVSS v3.1 Specification, section 7 and Appendix A; v3.0 Specification, section 8).

mod formula;

use crate::components::{metric, optional, split};
use crate::{CvssError, Score, Severity};

/// Which 3.x revision the vector declares; it selects the Roundup function and the
/// changed-scope environmental impact equation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinorVersion {
    /// `CVSS:3.0`
    V3_0,
    /// `CVSS:3.1`
    V3_1,
}

impl MinorVersion {
    pub(crate) fn label(self) -> &'static str {
        match self {
            MinorVersion::V3_0 => "3.0",
            MinorVersion::V3_1 => "3.1",
        }
    }
}

metric!(/// Attack Vector (AV).
    AttackVector = "AV" { Network = "N", Adjacent = "A", Local = "L", Physical = "P" });
metric!(/// Attack Complexity (AC).
    AttackComplexity = "AC" { Low = "L", High = "H" });
metric!(/// Privileges Required (PR).
    PrivilegesRequired = "PR" { None = "N", Low = "L", High = "H" });
metric!(/// User Interaction (UI).
    UserInteraction = "UI" { None = "N", Required = "R" });
metric!(/// Scope (S).
    Scope = "S" { Unchanged = "U", Changed = "C" });
metric!(/// Confidentiality, Integrity or Availability impact (C, I, A).
    Impact = "C/I/A" { High = "H", Low = "L", None = "N" });
metric!(/// Exploit Code Maturity (E).
    ExploitMaturity = "E" { NotDefined = "X", High = "H", Functional = "F", ProofOfConcept = "P", Unproven = "U" });
metric!(/// Remediation Level (RL).
    RemediationLevel = "RL" { NotDefined = "X", Unavailable = "U", Workaround = "W", TemporaryFix = "T", OfficialFix = "O" });
metric!(/// Report Confidence (RC).
    ReportConfidence = "RC" { NotDefined = "X", Confirmed = "C", Reasonable = "R", Unknown = "U" });
metric!(/// Confidentiality, Integrity or Availability Requirement (CR, IR, AR).
    Requirement = "CR/IR/AR" { NotDefined = "X", High = "H", Medium = "M", Low = "L" });

/// The eight mandatory base metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub struct BaseMetrics {
    pub av: AttackVector,
    pub ac: AttackComplexity,
    pub pr: PrivilegesRequired,
    pub ui: UserInteraction,
    pub s: Scope,
    pub c: Impact,
    pub i: Impact,
    pub a: Impact,
}

/// The optional temporal metrics; absent ones are Not Defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub struct TemporalMetrics {
    pub e: ExploitMaturity,
    pub rl: RemediationLevel,
    pub rc: ReportConfidence,
}

/// The optional environmental metrics; `None` is Not Defined (`X`), which takes the base value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub struct EnvironmentalMetrics {
    pub cr: Requirement,
    pub ir: Requirement,
    pub ar: Requirement,
    pub mav: Option<AttackVector>,
    pub mac: Option<AttackComplexity>,
    pub mpr: Option<PrivilegesRequired>,
    pub mui: Option<UserInteraction>,
    pub ms: Option<Scope>,
    pub mc: Option<Impact>,
    pub mi: Option<Impact>,
    pub ma: Option<Impact>,
}

/// A parsed CVSS v3.0 or v3.1 vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CvssV3 {
    /// `3.0` or `3.1`.
    pub version: MinorVersion,
    /// Base metrics.
    pub base: BaseMetrics,
    /// Temporal metrics.
    pub temporal: TemporalMetrics,
    /// Environmental metrics.
    pub environmental: EnvironmentalMetrics,
}

impl CvssV3 {
    /// Parses the part after `CVSS:3.x/`. Metrics may come in any order; each at most once.
    pub(crate) fn parse_body(version: MinorVersion, body: &str) -> Result<CvssV3, CvssError> {
        let mut b = Partial::default();
        for (metric, value) in split(body)? {
            b.set(version, metric, value)?;
        }
        b.finish(version)
    }

    /// The base score.
    pub fn base_score(&self) -> Score {
        formula::base(self)
    }

    /// The temporal score (equal to the base score when no temporal metric is defined).
    pub fn temporal_score(&self) -> Score {
        formula::temporal(self)
    }

    /// The environmental score (it can differ from the base score even when no environmental
    /// metric is defined, because v3.1 changed the modified-impact equation).
    pub fn environmental_score(&self) -> Score {
        formula::environmental(self)
    }

    /// Whether any environmental metric is defined (other than as `X`).
    pub fn has_environmental(&self) -> bool {
        self.environmental != NO_ENV
    }

    /// The qualitative rating of the base score.
    pub fn severity(&self) -> Severity {
        self.base_score().severity()
    }
}

/// Metrics seen so far while parsing.
#[derive(Default)]
struct Partial {
    av: Option<AttackVector>,
    ac: Option<AttackComplexity>,
    pr: Option<PrivilegesRequired>,
    ui: Option<UserInteraction>,
    s: Option<Scope>,
    c: Option<Impact>,
    i: Option<Impact>,
    a: Option<Impact>,
    e: Option<ExploitMaturity>,
    rl: Option<RemediationLevel>,
    rc: Option<ReportConfidence>,
    cr: Option<Requirement>,
    ir: Option<Requirement>,
    ar: Option<Requirement>,
    env: Option<EnvironmentalMetrics>,
}

const NO_ENV: EnvironmentalMetrics = EnvironmentalMetrics {
    cr: Requirement::NotDefined,
    ir: Requirement::NotDefined,
    ar: Requirement::NotDefined,
    mav: None,
    mac: None,
    mpr: None,
    mui: None,
    ms: None,
    mc: None,
    mi: None,
    ma: None,
};

/// Parses an impact value under its real metric name.
fn impact(metric: &'static str, value: &str) -> Result<Impact, CvssError> {
    Impact::parse(value).map_err(|e| rename(e, metric))
}

fn requirement(metric: &'static str, value: &str) -> Result<Requirement, CvssError> {
    Requirement::parse(value).map_err(|e| rename(e, metric))
}

fn rename(e: CvssError, metric: &'static str) -> CvssError {
    match e {
        CvssError::UnknownValue { value, allowed, .. } => CvssError::UnknownValue {
            metric,
            value,
            allowed,
        },
        other => other,
    }
}

impl Partial {
    fn set(&mut self, version: MinorVersion, metric: &str, value: &str) -> Result<(), CvssError> {
        let env = self.env.get_or_insert(NO_ENV);
        match metric {
            "AV" => self.av = Some(AttackVector::parse(value)?),
            "AC" => self.ac = Some(AttackComplexity::parse(value)?),
            "PR" => self.pr = Some(PrivilegesRequired::parse(value)?),
            "UI" => self.ui = Some(UserInteraction::parse(value)?),
            "S" => self.s = Some(Scope::parse(value)?),
            "C" => self.c = Some(impact("C", value)?),
            "I" => self.i = Some(impact("I", value)?),
            "A" => self.a = Some(impact("A", value)?),
            "E" => self.e = Some(ExploitMaturity::parse(value)?),
            "RL" => self.rl = Some(RemediationLevel::parse(value)?),
            "RC" => self.rc = Some(ReportConfidence::parse(value)?),
            "CR" => self.cr = Some(requirement("CR", value)?),
            "IR" => self.ir = Some(requirement("IR", value)?),
            "AR" => self.ar = Some(requirement("AR", value)?),
            "MAV" => env.mav = optional("MAV", value, AttackVector::parse)?,
            "MAC" => env.mac = optional("MAC", value, AttackComplexity::parse)?,
            "MPR" => env.mpr = optional("MPR", value, PrivilegesRequired::parse)?,
            "MUI" => env.mui = optional("MUI", value, UserInteraction::parse)?,
            "MS" => env.ms = optional("MS", value, Scope::parse)?,
            "MC" => env.mc = optional("MC", value, Impact::parse)?,
            "MI" => env.mi = optional("MI", value, Impact::parse)?,
            "MA" => env.ma = optional("MA", value, Impact::parse)?,
            other => {
                return Err(CvssError::UnknownMetric {
                    metric: other.to_owned(),
                    version: version.label(),
                })
            }
        }
        Ok(())
    }

    fn finish(self, version: MinorVersion) -> Result<CvssV3, CvssError> {
        let base = BaseMetrics {
            av: self.av.ok_or(CvssError::MissingMetric("AV"))?,
            ac: self.ac.ok_or(CvssError::MissingMetric("AC"))?,
            pr: self.pr.ok_or(CvssError::MissingMetric("PR"))?,
            ui: self.ui.ok_or(CvssError::MissingMetric("UI"))?,
            s: self.s.ok_or(CvssError::MissingMetric("S"))?,
            c: self.c.ok_or(CvssError::MissingMetric("C"))?,
            i: self.i.ok_or(CvssError::MissingMetric("I"))?,
            a: self.a.ok_or(CvssError::MissingMetric("A"))?,
        };
        let temporal = TemporalMetrics {
            e: self.e.unwrap_or(ExploitMaturity::NotDefined),
            rl: self.rl.unwrap_or(RemediationLevel::NotDefined),
            rc: self.rc.unwrap_or(ReportConfidence::NotDefined),
        };
        let mut environmental = self.env.unwrap_or(NO_ENV);
        environmental.cr = self.cr.unwrap_or(Requirement::NotDefined);
        environmental.ir = self.ir.unwrap_or(Requirement::NotDefined);
        environmental.ar = self.ar.unwrap_or(Requirement::NotDefined);
        Ok(CvssV3 {
            version,
            base,
            temporal,
            environmental,
        })
    }
}
