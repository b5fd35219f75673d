//! Quotes in the file form tpm2-tools reads, so an operator can check an ironroot quote
//! with an independent TPM stack: `tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig
//! -f quote.pcrs -l <list> -g <hash> -q <nonce>`.

use crate::{Attest, Attested, PcrValues, WireError};

/// The files and arguments `tpm2_checkquote` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpm2ToolsQuote {
    /// The marshalled TPMS_ATTEST (`-m`), exactly as the TPM signed it.
    pub message: Vec<u8>,
    /// The marshalled TPMT_SIGNATURE (`-s`).
    pub signature: Vec<u8>,
    /// PCR values with their selection (`-f`) in tpm2-tools' "serialized" form, the
    /// default of `tpm2_quote -o` (its "values" form fails in tpm2-tools 5.4 for more
    /// than eight PCRs).
    pub pcrs: Vec<u8>,
    /// The selection in tpm2-tools syntax (`-l`), e.g. `sha256:0,1,2,10`.
    pub pcr_list: String,
    /// The qualifying data (nonce) as hex (`-q`).
    pub qualification_hex: String,
}

/// Builds the tpm2-tools form of a quote. Fails if a selected PCR has no value.
pub fn to_tpm2_tools(
    attest: &[u8],
    signature: &[u8],
    pcrs: &PcrValues,
) -> Result<Tpm2ToolsQuote, WireError> {
    let parsed = Attest::parse(attest)?;
    let Attested::Quote { selection, .. } = &parsed.attested else {
        return Err(WireError::InvalidValue {
            what: "attestation is not a quote",
        });
    };
    let mut values = Vec::new();
    let mut banks = Vec::new();
    for (bank, indices) in &selection.0 {
        for i in indices {
            let v = pcrs.get(*bank, *i).ok_or(WireError::InvalidValue {
                what: "selected PCR has no value",
            })?;
            values.push(v.0.clone());
        }
        let list: Vec<String> = indices.iter().map(u32::to_string).collect();
        banks.push(format!("{}:{}", bank.name(), list.join(",")));
    }
    Ok(Tpm2ToolsQuote {
        message: attest.to_vec(),
        signature: signature.to_vec(),
        pcrs: serialized(&selection.0, &values)?,
        pcr_list: banks.join("+"),
        qualification_hex: hex::encode(&parsed.extra_data),
    })
}

/// Sizes of the C structures tpm2-tools dumps (TSS2 headers): TPML_PCR_SELECTION holds 16
/// selections of 8 bytes (u16 hash, u8 size, 4 select bytes, 1 padding); TPML_DIGEST
/// holds 8 TPM2B_DIGESTs of 66 bytes (u16 size, 64-byte buffer). Little-endian, as the
/// tools write them on x86 and ARM.
const MAX_SELECTIONS: usize = 16;
const DIGESTS_PER_LIST: usize = 8;
const DIGEST_BUFFER: usize = 64;

fn serialized(
    selection: &[(ironroot_crypto::HashAlg, Vec<u32>)],
    values: &[Vec<u8>],
) -> Result<Vec<u8>, WireError> {
    if selection.len() > MAX_SELECTIONS {
        return Err(WireError::TooLarge {
            what: "PCR selection",
        });
    }
    let mut out = Vec::with_capacity(668);
    out.extend_from_slice(&(selection.len() as u32).to_le_bytes());
    for slot in 0..MAX_SELECTIONS {
        let mut entry = [0u8; 8];
        if let Some((bank, indices)) = selection.get(slot) {
            entry[0..2].copy_from_slice(&crate::alg::hash_to_tpm(*bank).to_le_bytes());
            entry[2] = 3;
            for i in indices {
                let i = *i as usize;
                if i >= 24 {
                    return Err(WireError::InvalidValue { what: "PCR index" });
                }
                entry[3 + i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&entry);
    }
    let lists: Vec<&[Vec<u8>]> = values.chunks(DIGESTS_PER_LIST).collect();
    out.extend_from_slice(&(lists.len() as u32).to_le_bytes());
    for list in lists {
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for slot in 0..DIGESTS_PER_LIST {
            let mut d = [0u8; 2 + DIGEST_BUFFER];
            if let Some(v) = list.get(slot) {
                if v.len() > DIGEST_BUFFER {
                    return Err(WireError::TooLarge { what: "PCR value" });
                }
                d[0..2].copy_from_slice(&(v.len() as u16).to_le_bytes());
                d[2..2 + v.len()].copy_from_slice(v);
            }
            out.extend_from_slice(&d);
        }
    }
    Ok(out)
}
