use crate::fault::Fault;
use crate::flavor::FlavorPart;
use ironroot_crypto::HashAlg;

/// Why flavors could not be made from a host's evidence. (Verification itself never fails
/// with an error: every problem there is a fault in an untrusted report.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    #[error("the evidence failed {} integrity check(s); flavors are only made from intact evidence", .0.len())]
    EvidenceNotIntact(Vec<Fault>),
    #[error("the quote has no sha384, sha256 or sha1 bank that the event log also covers")]
    NoUsableBank,
    #[error("the template needs PCR {index} ({bank}) but the quote does not cover it")]
    PcrNotQuoted { bank: HashAlg, index: u32 },
    #[error("the template needs the boot event log but the host sent none")]
    EventLogMissing,
    #[error("the template needs the IMA list but the host sent none")]
    ImaLogMissing,
    #[error("the host's evidence holds nothing to make a {0} flavor from")]
    EmptyFlavor(FlavorPart),
}
