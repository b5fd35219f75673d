//! TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12): what a TPM signs for TPM2_Quote and TPM2_Certify.
//!
//! Parsing says nothing about authenticity; only [`crate::verify_quote`] and
//! [`crate::verify_certify`] turn these bytes into something to trust.

use crate::alg;
use crate::public::{MAX_DIGEST, MAX_NAME};
use crate::wire::{Reader, WireError};
use ironroot_crypto::HashAlg;
use serde::Serialize;

/// TPM_GENERATED_VALUE: the TPM puts it in front of everything it signs, so a restricted
/// key cannot be made to sign outside data that looks like an attestation.
pub const TPM_GENERATED_VALUE: u32 = 0xFF54_4347;
pub const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;
pub const TPM_ST_ATTEST_QUOTE: u16 = 0x8018;

/// TPM2B_DATA holds at most a TPMT_HA.
const MAX_EXTRA_DATA: usize = 64;
/// A TPML_PCR_SELECTION has at most one entry per hash algorithm the TPM implements.
const MAX_PCR_BANKS: u32 = 16;
/// 4 bytes select PCRs 0..=31; TPMs have 24.
const MAX_SIZEOF_SELECT: u8 = 4;

/// TPMS_CLOCK_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockInfo {
    pub clock: u64,
    pub reset_count: u32,
    pub restart_count: u32,
    pub safe: bool,
}

/// TPML_PCR_SELECTION as `(bank, PCR indices ascending)`, in the order the TPM listed
/// the banks, which is the order the PCR digest hashes them in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PcrSelection(pub Vec<(HashAlg, Vec<u32>)>);

/// TPMU_ATTEST for the two types ironroot verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attested {
    /// TPMS_QUOTE_INFO.
    Quote {
        selection: PcrSelection,
        pcr_digest: Vec<u8>,
    },
    /// TPMS_CERTIFY_INFO.
    Certify {
        name: Vec<u8>,
        qualified_name: Vec<u8>,
    },
}

/// A parsed TPMS_ATTEST of type QUOTE or CERTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attest {
    pub qualified_signer: Vec<u8>,
    pub extra_data: Vec<u8>,
    pub clock_info: ClockInfo,
    pub firmware_version: u64,
    pub attested: Attested,
}

impl Attest {
    /// The TPM_ST_ATTEST_* value of this structure.
    pub fn attest_type(&self) -> u16 {
        match self.attested {
            Attested::Quote { .. } => TPM_ST_ATTEST_QUOTE,
            Attested::Certify { .. } => TPM_ST_ATTEST_CERTIFY,
        }
    }

    /// Parses a TPMS_ATTEST (as `tpm2_quote -m` writes it); other attestation types are
    /// `UnexpectedType`.
    pub fn parse(bytes: &[u8]) -> Result<Attest, WireError> {
        let mut r = Reader::new(bytes);
        if r.u32("magic")? != TPM_GENERATED_VALUE {
            return Err(WireError::BadMagic);
        }
        let attest_type = r.u16("type")?;
        if attest_type != TPM_ST_ATTEST_QUOTE && attest_type != TPM_ST_ATTEST_CERTIFY {
            return Err(WireError::UnexpectedType(attest_type));
        }
        let qualified_signer = r.tpm2b(MAX_NAME, "qualifiedSigner")?.to_vec();
        let extra_data = r.tpm2b(MAX_EXTRA_DATA, "extraData")?.to_vec();
        let clock_info = read_clock_info(&mut r)?;
        let firmware_version = r.u64("firmwareVersion")?;
        let attested = if attest_type == TPM_ST_ATTEST_QUOTE {
            Attested::Quote {
                selection: read_pcr_selection(&mut r)?,
                pcr_digest: r.tpm2b(MAX_DIGEST, "pcrDigest")?.to_vec(),
            }
        } else {
            Attested::Certify {
                name: r.tpm2b(MAX_NAME, "certify.name")?.to_vec(),
                qualified_name: r.tpm2b(MAX_NAME, "certify.qualifiedName")?.to_vec(),
            }
        };
        r.finish()?;
        Ok(Attest {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }
}

fn read_clock_info(r: &mut Reader<'_>) -> Result<ClockInfo, WireError> {
    let clock = r.u64("clock")?;
    let reset_count = r.u32("resetCount")?;
    let restart_count = r.u32("restartCount")?;
    let safe = match r.u8("safe")? {
        0 => false,
        1 => true,
        _ => {
            return Err(WireError::InvalidValue {
                what: "clockInfo.safe",
            })
        }
    };
    Ok(ClockInfo {
        clock,
        reset_count,
        restart_count,
        safe,
    })
}

/// Parses a TPML_PCR_SELECTION.
pub fn read_pcr_selection(r: &mut Reader<'_>) -> Result<PcrSelection, WireError> {
    let count = r.u32("TPML_PCR_SELECTION.count")?;
    if count > MAX_PCR_BANKS {
        return Err(WireError::TooLarge {
            what: "TPML_PCR_SELECTION.count",
        });
    }
    let mut banks = Vec::new();
    for _ in 0..count {
        let bank = alg::hash_from_tpm(r.u16("pcrSelection.hash")?)?;
        let size = r.u8("sizeofSelect")?;
        if size > MAX_SIZEOF_SELECT {
            return Err(WireError::TooLarge {
                what: "sizeofSelect",
            });
        }
        let select = r.bytes(usize::from(size), "pcrSelect")?;
        let indices = (0u32..)
            .step_by(8)
            .zip(select)
            .flat_map(|(base, byte)| {
                (0..8)
                    .filter(move |bit| byte & (1 << bit) != 0)
                    .map(move |bit| base + bit)
            })
            .collect();
        banks.push((bank, indices));
    }
    Ok(PcrSelection(banks))
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTE: &[u8] = include_bytes!("../tests/fixtures/quote-rsa.msg");
    const CERTIFY: &[u8] = include_bytes!("../tests/fixtures/certify-rsa.attest");
    const AK_QNAME: &[u8] = include_bytes!("../tests/fixtures/ak-rsa.qname");
    const NONCE: &[u8] = include_bytes!("../tests/fixtures/nonce.bin");

    #[test]
    fn swtpm_quote_parses() {
        let a = Attest::parse(QUOTE).unwrap();
        assert_eq!(a.attest_type(), TPM_ST_ATTEST_QUOTE);
        assert_eq!(a.qualified_signer, AK_QNAME);
        assert_eq!(a.extra_data, NONCE);
        let Attested::Quote {
            selection,
            pcr_digest,
        } = a.attested
        else {
            panic!("not a quote")
        };
        assert_eq!(
            selection,
            PcrSelection(vec![(HashAlg::Sha256, vec![0, 1, 2, 10])])
        );
        assert_eq!(pcr_digest.len(), 32);
    }

    #[test]
    fn swtpm_certify_parses() {
        let a = Attest::parse(CERTIFY).unwrap();
        assert_eq!(a.attest_type(), TPM_ST_ATTEST_CERTIFY);
        assert!(matches!(a.attested, Attested::Certify { ref name, .. } if name.len() == 34));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for bytes in [QUOTE, CERTIFY] {
            for n in 0..bytes.len() {
                assert!(Attest::parse(&bytes[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn wrong_magic_type_safe_flag_and_trailing_bytes_are_refused() {
        let mut b = QUOTE.to_vec();
        b[0] ^= 1;
        assert_eq!(Attest::parse(&b), Err(WireError::BadMagic));
        let mut b = QUOTE.to_vec();
        b[4..6].copy_from_slice(&0x8014u16.to_be_bytes());
        assert_eq!(Attest::parse(&b), Err(WireError::UnexpectedType(0x8014)));
        // magic 4 + type 2 + signer (2 + 34) + extraData (2 + 16) + clock 8 + reset 4 + restart 4.
        let safe_at = 4 + 2 + 36 + 18 + 16;
        let mut b = QUOTE.to_vec();
        b[safe_at] = 2;
        assert_eq!(
            Attest::parse(&b),
            Err(WireError::InvalidValue {
                what: "clockInfo.safe"
            })
        );
        let mut b = QUOTE.to_vec();
        b.push(0);
        assert_eq!(Attest::parse(&b), Err(WireError::TrailingBytes));
    }

    #[test]
    fn pcr_selection_bits_map_to_indices_in_order() {
        // Two banks: sha1 {7, 8}, sha256 {0, 23}.
        let bytes = [0, 0, 0, 2, 0, 4, 3, 0x80, 1, 0, 0, 0x0b, 3, 1, 0, 0x80];
        let mut r = Reader::new(&bytes);
        let sel = read_pcr_selection(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!(
            sel,
            PcrSelection(vec![
                (HashAlg::Sha1, vec![7, 8]),
                (HashAlg::Sha256, vec![0, 23])
            ])
        );
    }

    #[test]
    fn pcr_selection_limits() {
        assert!(matches!(
            read_pcr_selection(&mut Reader::new(&[0, 0, 0, 17])),
            Err(WireError::TooLarge { .. })
        ));
        let five = [0, 0, 0, 1, 0, 0x0b, 5, 0, 0, 0, 0, 0];
        assert!(matches!(
            read_pcr_selection(&mut Reader::new(&five)),
            Err(WireError::TooLarge { .. })
        ));
        let sm3 = [0, 0, 0, 1, 0, 0x12, 3, 0, 0, 0];
        assert_eq!(
            read_pcr_selection(&mut Reader::new(&sm3)),
            Err(WireError::UnsupportedAlgorithm(0x12))
        );
    }
}
