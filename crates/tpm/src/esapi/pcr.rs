//! PCR banks, reads, extends, resets and quotes.

use super::marshal::{hash_alg, hashing_algorithm};
use super::scope::{authorised, with_persistent};
use crate::{AkConfig, PcrSelection, Quote, TpmError};
use ironroot_crypto::{HashAlg, Hasher};
use ironroot_tpm_wire::PcrValues;
use std::collections::{BTreeMap, BTreeSet};
use tss_esapi::constants::CapabilityType;
use tss_esapi::handles::PcrHandle;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Attest, AttestInfo, CapabilityData, Data, Digest, DigestValues, PcrSelectionList,
    PcrSelectionListBuilder, PcrSlot, SignatureScheme,
};
use tss_esapi::traits::Marshall;
use tss_esapi::Context;

/// PC Client TPMs have 24 PCRs; ironroot uses no others.
const PCR_COUNT: u32 = 24;
/// PCRs that locality 0 may reset (PC Client profile: debug PCR 16 and application PCR 23).
const RESETTABLE: [u32; 2] = [16, 23];
/// Attempts before giving up on a quote whose PCRs keep changing under it.
const QUOTE_ATTEMPTS: u32 = 3;
/// The AK signs with SHA-256 in both kinds, so the quoted PCR digest uses it too.
const QUOTE_DIGEST: HashAlg = HashAlg::Sha256;

pub(super) fn banks(ctx: &mut Context) -> Result<Vec<HashAlg>, TpmError> {
    let (data, _) = ctx
        .get_capability(CapabilityType::AssignedPcr, 0, 16)
        .map_err(TpmError::command("GetCapability(PCRS)"))?;
    let CapabilityData::AssignedPcr(list) = data else {
        return Err(TpmError::Command {
            command: "GetCapability(PCRS)",
            reason: "unexpected capability data".into(),
        });
    };
    let mut banks: Vec<HashAlg> = list
        .get_selections()
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| hash_alg(s.hashing_algorithm()))
        .collect();
    banks.sort();
    Ok(banks)
}

fn slot(index: u32) -> Result<PcrSlot, TpmError> {
    if index >= PCR_COUNT {
        return Err(TpmError::PcrIndex(index));
    }
    PcrSlot::try_from(1u32 << index).map_err(|_| TpmError::PcrIndex(index))
}

fn slot_index(slot: PcrSlot) -> u32 {
    u32::from(slot).trailing_zeros()
}

fn selection_list(wanted: &BTreeMap<HashAlg, BTreeSet<u32>>) -> Result<PcrSelectionList, TpmError> {
    let mut builder = PcrSelectionListBuilder::new();
    for (alg, indices) in wanted {
        let slots = indices
            .iter()
            .map(|i| slot(*i))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.with_selection(hashing_algorithm(*alg), &slots);
    }
    builder
        .build()
        .map_err(TpmError::malformed("PCR selection"))
}

fn normalise(selection: &PcrSelection) -> Result<BTreeMap<HashAlg, BTreeSet<u32>>, TpmError> {
    let mut wanted: BTreeMap<HashAlg, BTreeSet<u32>> = BTreeMap::new();
    for (alg, indices) in selection {
        for index in indices {
            slot(*index)?;
            wanted.entry(*alg).or_default().insert(*index);
        }
    }
    wanted.retain(|_, indices| !indices.is_empty());
    Ok(wanted)
}

/// Reads every selected PCR. TPM2_PCR_Read answers at most eight digests per call, so
/// this asks again for what is still missing.
pub(super) fn read(ctx: &mut Context, selection: &PcrSelection) -> Result<PcrValues, TpmError> {
    let mut remaining = normalise(selection)?;
    let mut values = PcrValues::default();
    while let Some(first_alg) = remaining.keys().next().copied() {
        let list = selection_list(&remaining)?;
        let (_, read, digests) = ctx
            .execute_without_session(|ctx| ctx.pcr_read(list))
            .map_err(TpmError::command("PCR_Read"))?;
        let mut digests = digests.value().iter();
        let mut progressed = false;
        for sel in read.get_selections() {
            let alg =
                hash_alg(sel.hashing_algorithm()).ok_or_else(|| bad_reply("unexpected bank"))?;
            for s in sel.selected() {
                let digest = digests
                    .next()
                    .ok_or_else(|| bad_reply("fewer digests than selected"))?;
                let index = slot_index(s);
                values.set(alg, index, digest.value().to_vec());
                if let Some(left) = remaining.get_mut(&alg) {
                    progressed |= left.remove(&index);
                }
            }
        }
        remaining.retain(|_, indices| !indices.is_empty());
        if !progressed {
            // The TPM returns nothing for a bank it has not allocated.
            return Err(TpmError::BankNotAllocated(first_alg));
        }
    }
    Ok(values)
}

fn bad_reply(why: &str) -> TpmError {
    TpmError::Command {
        command: "PCR_Read",
        reason: why.to_owned(),
    }
}

pub(super) fn extend(
    ctx: &mut Context,
    index: u32,
    digests: &BTreeMap<HashAlg, Vec<u8>>,
) -> Result<(), TpmError> {
    slot(index)?;
    let mut values = DigestValues::new();
    for (alg, digest) in digests {
        if digest.len() != alg.len() {
            return Err(TpmError::Malformed {
                what: "PCR extend digest",
                why: format!("{} bytes for {alg}", digest.len()),
            });
        }
        values.set(
            hashing_algorithm(*alg),
            Digest::try_from(digest.clone()).map_err(TpmError::malformed("digest"))?,
        );
    }
    let handle = PcrHandle::try_from(index).map_err(|_| TpmError::PcrIndex(index))?;
    authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.pcr_extend(handle, values)
    })
    .map_err(TpmError::command("PCR_Extend"))
}

pub(super) fn reset(ctx: &mut Context, index: u32) -> Result<(), TpmError> {
    if !RESETTABLE.contains(&index) {
        return Err(TpmError::PcrIndex(index));
    }
    let handle = PcrHandle::try_from(index).map_err(|_| TpmError::PcrIndex(index))?;
    authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
        ctx.pcr_reset(handle)
    })
    .map_err(TpmError::command("PCR_Reset"))
}

/// Reads the PCRs, quotes them, and accepts the pair only when the quote's PCR digest
/// is the digest of the values read, so the values returned are exactly the ones the
/// signature covers. An extend between the two commands makes that fail; then retry.
pub(super) fn quote(
    ctx: &mut Context,
    ak: AkConfig,
    nonce: &[u8],
    selection: &PcrSelection,
) -> Result<Quote, TpmError> {
    let wanted = normalise(selection)?;
    let qualifying = Data::try_from(nonce.to_vec()).map_err(TpmError::malformed("quote nonce"))?;
    for attempt in 1..=QUOTE_ATTEMPTS {
        let pcrs = read(ctx, selection)?;
        let list = selection_list(&wanted)?;
        let nonce = qualifying.clone();
        let (attest, signature) = with_persistent(ctx, ak.handle, |ctx, key| {
            authorised(ctx, (Some(AuthSession::Password), None), |ctx| {
                ctx.quote(key.into(), nonce, SignatureScheme::Null, list)
            })
            .map_err(TpmError::command("Quote"))
        })?;
        if quoted_digest_matches(&attest, &pcrs) {
            return Ok(Quote {
                attest: attest
                    .marshall()
                    .map_err(TpmError::malformed("TPMS_ATTEST"))?,
                signature: signature
                    .marshall()
                    .map_err(TpmError::malformed("TPMT_SIGNATURE"))?,
                pcrs,
            });
        }
        tracing::debug!(attempt, "PCRs changed while quoting; retrying");
    }
    Err(TpmError::PcrsKeptChanging(QUOTE_ATTEMPTS))
}

/// Whether the quote's pcrDigest is the hash of `pcrs` taken in the quote's own
/// selection order (which is what a verifier recomputes).
fn quoted_digest_matches(attest: &Attest, pcrs: &PcrValues) -> bool {
    let AttestInfo::Quote { info } = attest.attested() else {
        return false;
    };
    let mut hasher = Hasher::new(QUOTE_DIGEST);
    for sel in info.pcr_selection().get_selections() {
        let Some(alg) = hash_alg(sel.hashing_algorithm()) else {
            return false;
        };
        for s in sel.selected() {
            match pcrs.get(alg, slot_index(s)) {
                Some(value) => hasher.update(value.as_ref()),
                None => return false,
            };
        }
    }
    ironroot_crypto::constant_time_eq(&hasher.finish(), info.pcr_digest().value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_rejects_pcr_24_and_drops_empty_banks() {
        assert!(matches!(
            normalise(&[(HashAlg::Sha256, vec![24])]),
            Err(TpmError::PcrIndex(24))
        ));
        let wanted =
            normalise(&[(HashAlg::Sha1, vec![]), (HashAlg::Sha256, vec![3, 1, 3])]).unwrap();
        assert_eq!(wanted.len(), 1);
        assert_eq!(
            wanted[&HashAlg::Sha256].iter().copied().collect::<Vec<_>>(),
            vec![1, 3]
        );
    }

    #[test]
    fn slot_index_inverts_slot() {
        for i in 0..PCR_COUNT {
            assert_eq!(slot_index(slot(i).unwrap()), i);
        }
    }
}
