//! CVSS v4.0 metric values (specification section 7, Table 23).

use crate::components::metric;

metric!(/// Attack Vector (AV).
    AttackVector = "AV" { Network = "N", Adjacent = "A", Local = "L", Physical = "P" });
metric!(/// Attack Complexity (AC).
    AttackComplexity = "AC" { Low = "L", High = "H" });
metric!(/// Attack Requirements (AT).
    AttackRequirements = "AT" { None = "N", Present = "P" });
metric!(/// Privileges Required (PR).
    PrivilegesRequired = "PR" { None = "N", Low = "L", High = "H" });
metric!(/// User Interaction (UI).
    UserInteraction = "UI" { None = "N", Passive = "P", Active = "A" });
metric!(/// Impact on the vulnerable or a subsequent system (VC, VI, VA, SC, SI, SA).
    Impact = "VC/VI/VA/SC/SI/SA" { High = "H", Low = "L", None = "N" });
metric!(/// Modified subsequent-system integrity or availability (MSI, MSA), which adds Safety.
    SubsequentImpact = "MSI/MSA" { Safety = "S", High = "H", Low = "L", None = "N" });
metric!(/// Exploit Maturity (E).
    ExploitMaturity = "E" { Attacked = "A", ProofOfConcept = "P", Unreported = "U" });
metric!(/// Confidentiality, Integrity or Availability Requirement (CR, IR, AR).
    Requirement = "CR/IR/AR" { High = "H", Medium = "M", Low = "L" });
metric!(/// Safety (S), supplemental.
    Safety = "S" { Negligible = "N", Present = "P" });
metric!(/// Automatable (AU), supplemental.
    Automatable = "AU" { No = "N", Yes = "Y" });
metric!(/// Recovery (R), supplemental.
    Recovery = "R" { Automatic = "A", User = "U", Irrecoverable = "I" });
metric!(/// Value Density (V), supplemental.
    ValueDensity = "V" { Diffuse = "D", Concentrated = "C" });
metric!(/// Vulnerability Response Effort (RE), supplemental.
    ResponseEffort = "RE" { Low = "L", Moderate = "M", High = "H" });
metric!(/// Provider Urgency (U), supplemental.
    ProviderUrgency = "U" { Clear = "Clear", Green = "Green", Amber = "Amber", Red = "Red" });

/// The eleven mandatory base metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub struct BaseMetrics {
    pub av: AttackVector,
    pub ac: AttackComplexity,
    pub at: AttackRequirements,
    pub pr: PrivilegesRequired,
    pub ui: UserInteraction,
    pub vc: Impact,
    pub vi: Impact,
    pub va: Impact,
    pub sc: Impact,
    pub si: Impact,
    pub sa: Impact,
}

/// Environmental metrics; `None` is Not Defined (`X`): requirements then count as High and
/// modified metrics take the base value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)]
pub struct EnvironmentalMetrics {
    pub cr: Option<Requirement>,
    pub ir: Option<Requirement>,
    pub ar: Option<Requirement>,
    pub mav: Option<AttackVector>,
    pub mac: Option<AttackComplexity>,
    pub mat: Option<AttackRequirements>,
    pub mpr: Option<PrivilegesRequired>,
    pub mui: Option<UserInteraction>,
    pub mvc: Option<Impact>,
    pub mvi: Option<Impact>,
    pub mva: Option<Impact>,
    pub msc: Option<Impact>,
    pub msi: Option<SubsequentImpact>,
    pub msa: Option<SubsequentImpact>,
}

/// Supplemental metrics; `None` is Not Defined. They carry context and never change a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)]
pub struct SupplementalMetrics {
    pub safety: Option<Safety>,
    pub automatable: Option<Automatable>,
    pub recovery: Option<Recovery>,
    pub value_density: Option<ValueDensity>,
    pub response_effort: Option<ResponseEffort>,
    pub urgency: Option<ProviderUrgency>,
}
