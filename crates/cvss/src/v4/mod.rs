//! CVSS v4.0 vectors: parsing, and scoring by MacroVector lookup and interpolation
//! (CVSS v4.0 Specification, sections 7 and 8).

mod metrics;
mod scoring;
mod table;

pub use metrics::*;

use crate::components::{optional, split};
use crate::{CvssError, Score, Severity};

/// Which metric groups a CVSS v4.0 score takes into account (specification section 1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nomenclature {
    /// Base metrics only.
    CvssB,
    /// Base and threat metrics.
    CvssBT,
    /// Base and environmental metrics.
    CvssBE,
    /// Base, threat and environmental metrics.
    CvssBTE,
}

impl Nomenclature {
    /// The name the specification uses ("CVSS-BT").
    pub fn as_str(self) -> &'static str {
        match self {
            Nomenclature::CvssB => "CVSS-B",
            Nomenclature::CvssBT => "CVSS-BT",
            Nomenclature::CvssBE => "CVSS-BE",
            Nomenclature::CvssBTE => "CVSS-BTE",
        }
    }
}

/// A parsed CVSS v4.0 vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CvssV4 {
    /// The eleven mandatory base metrics.
    pub base: BaseMetrics,
    /// Exploit Maturity (E); `None` is Not Defined.
    pub exploit_maturity: Option<ExploitMaturity>,
    /// Environmental metrics.
    pub environmental: EnvironmentalMetrics,
    /// Supplemental metrics; they never change the score.
    pub supplemental: SupplementalMetrics,
}

impl CvssV4 {
    /// Parses the part after `CVSS:4.0/`. Metrics may come in any order; each at most once.
    pub(crate) fn parse_body(body: &str) -> Result<CvssV4, CvssError> {
        let mut partial = Partial::default();
        for (metric, value) in split(body)? {
            partial.set(metric, value)?;
        }
        partial.finish()
    }

    /// The score of every metric present in the vector: CVSS-B, -BT, -BE or -BTE (see
    /// [`CvssV4::nomenclature`]).
    pub fn score(&self) -> Score {
        scoring::score(self)
    }

    /// CVSS-B: the score of the base metrics alone, ignoring threat and environmental metrics.
    pub fn base_score(&self) -> Score {
        scoring::score(&CvssV4 {
            base: self.base,
            exploit_maturity: None,
            environmental: EnvironmentalMetrics::default(),
            supplemental: self.supplemental,
        })
    }

    /// The qualitative rating of [`CvssV4::score`].
    pub fn severity(&self) -> Severity {
        self.score().severity()
    }

    /// Which metric groups [`CvssV4::score`] takes into account.
    pub fn nomenclature(&self) -> Nomenclature {
        let threat = self.exploit_maturity.is_some();
        let environmental = self.environmental != EnvironmentalMetrics::default();
        match (threat, environmental) {
            (false, false) => Nomenclature::CvssB,
            (true, false) => Nomenclature::CvssBT,
            (false, true) => Nomenclature::CvssBE,
            (true, true) => Nomenclature::CvssBTE,
        }
    }
}

/// Metrics seen so far while parsing.
#[derive(Default)]
struct Partial {
    av: Option<AttackVector>,
    ac: Option<AttackComplexity>,
    at: Option<AttackRequirements>,
    pr: Option<PrivilegesRequired>,
    ui: Option<UserInteraction>,
    vc: Option<Impact>,
    vi: Option<Impact>,
    va: Option<Impact>,
    sc: Option<Impact>,
    si: Option<Impact>,
    sa: Option<Impact>,
    e: Option<ExploitMaturity>,
    env: EnvironmentalMetrics,
    sup: SupplementalMetrics,
}

fn impact(metric: &'static str, value: &str) -> Result<Impact, CvssError> {
    Impact::parse(value).map_err(|e| match e {
        CvssError::UnknownValue { value, allowed, .. } => CvssError::UnknownValue {
            metric,
            value,
            allowed,
        },
        other => other,
    })
}

fn with_name<T>(
    metric: &'static str,
    parse: fn(&str) -> Result<T, CvssError>,
) -> impl Fn(&str) -> Result<Option<T>, CvssError> {
    move |value| optional(metric, value, parse)
}

impl Partial {
    fn set(&mut self, metric: &str, value: &str) -> Result<(), CvssError> {
        let (env, sup) = (&mut self.env, &mut self.sup);
        match metric {
            "AV" => self.av = Some(AttackVector::parse(value)?),
            "AC" => self.ac = Some(AttackComplexity::parse(value)?),
            "AT" => self.at = Some(AttackRequirements::parse(value)?),
            "PR" => self.pr = Some(PrivilegesRequired::parse(value)?),
            "UI" => self.ui = Some(UserInteraction::parse(value)?),
            "VC" => self.vc = Some(impact("VC", value)?),
            "VI" => self.vi = Some(impact("VI", value)?),
            "VA" => self.va = Some(impact("VA", value)?),
            "SC" => self.sc = Some(impact("SC", value)?),
            "SI" => self.si = Some(impact("SI", value)?),
            "SA" => self.sa = Some(impact("SA", value)?),
            "E" => self.e = optional("E", value, ExploitMaturity::parse)?,
            "CR" => env.cr = with_name("CR", Requirement::parse)(value)?,
            "IR" => env.ir = with_name("IR", Requirement::parse)(value)?,
            "AR" => env.ar = with_name("AR", Requirement::parse)(value)?,
            "MAV" => env.mav = with_name("MAV", AttackVector::parse)(value)?,
            "MAC" => env.mac = with_name("MAC", AttackComplexity::parse)(value)?,
            "MAT" => env.mat = with_name("MAT", AttackRequirements::parse)(value)?,
            "MPR" => env.mpr = with_name("MPR", PrivilegesRequired::parse)(value)?,
            "MUI" => env.mui = with_name("MUI", UserInteraction::parse)(value)?,
            "MVC" => env.mvc = with_name("MVC", Impact::parse)(value)?,
            "MVI" => env.mvi = with_name("MVI", Impact::parse)(value)?,
            "MVA" => env.mva = with_name("MVA", Impact::parse)(value)?,
            "MSC" => env.msc = with_name("MSC", Impact::parse)(value)?,
            "MSI" => env.msi = with_name("MSI", SubsequentImpact::parse)(value)?,
            "MSA" => env.msa = with_name("MSA", SubsequentImpact::parse)(value)?,
            "S" => sup.safety = with_name("S", Safety::parse)(value)?,
            "AU" => sup.automatable = with_name("AU", Automatable::parse)(value)?,
            "R" => sup.recovery = with_name("R", Recovery::parse)(value)?,
            "V" => sup.value_density = with_name("V", ValueDensity::parse)(value)?,
            "RE" => sup.response_effort = with_name("RE", ResponseEffort::parse)(value)?,
            "U" => sup.urgency = with_name("U", ProviderUrgency::parse)(value)?,
            other => {
                return Err(CvssError::UnknownMetric {
                    metric: other.to_owned(),
                    version: "4.0",
                })
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<CvssV4, CvssError> {
        let base = BaseMetrics {
            av: self.av.ok_or(CvssError::MissingMetric("AV"))?,
            ac: self.ac.ok_or(CvssError::MissingMetric("AC"))?,
            at: self.at.ok_or(CvssError::MissingMetric("AT"))?,
            pr: self.pr.ok_or(CvssError::MissingMetric("PR"))?,
            ui: self.ui.ok_or(CvssError::MissingMetric("UI"))?,
            vc: self.vc.ok_or(CvssError::MissingMetric("VC"))?,
            vi: self.vi.ok_or(CvssError::MissingMetric("VI"))?,
            va: self.va.ok_or(CvssError::MissingMetric("VA"))?,
            sc: self.sc.ok_or(CvssError::MissingMetric("SC"))?,
            si: self.si.ok_or(CvssError::MissingMetric("SI"))?,
            sa: self.sa.ok_or(CvssError::MissingMetric("SA"))?,
        };
        Ok(CvssV4 {
            base,
            exploit_maturity: self.e,
            environmental: self.env,
            supplemental: self.sup,
        })
    }
}
