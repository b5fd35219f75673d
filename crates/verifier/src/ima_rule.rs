//! The `ima_files` rule: an allow-list of digests per file path.

use crate::context::Context;
use crate::fault::{Fault, FaultName};
use crate::integrity::short;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use std::collections::BTreeMap;

pub(crate) fn ima_files(
    ctx: &Context<'_>,
    hash: HashAlg,
    files: &BTreeMap<String, Vec<Digest>>,
) -> Vec<Fault> {
    if files.is_empty() {
        return vec![Fault::new(FaultName::EmptyRule, "ima_files lists no files")];
    }
    let Some(index) = &ctx.ima else {
        return vec![Fault::new(
            FaultName::ImaLogMissing,
            "the flavor checks IMA measurements but the host sent no IMA list",
        )];
    };
    let mut faults = Vec::new();
    if !ctx.integrity.ima_proven {
        faults.push(Fault::new(
            FaultName::ImaReplayMismatch,
            "the IMA list does not replay to the quoted PCRs, so its measurements prove nothing",
        ));
    }
    for (path, allowed) in files {
        let mut measured = false;
        for entry in index.measurements(path) {
            measured = true;
            if entry.file_digest_alg != hash {
                faults.push(
                    Fault::new(
                        FaultName::ImaFileDigestMismatch,
                        format!(
                            "{path} measured with {} but the flavor allows only {hash} digests",
                            entry.file_digest_alg
                        ),
                    )
                    .with_path(path)
                    .values(hash.name(), entry.file_digest_alg.name()),
                );
            } else if !allowed.contains(&entry.file_digest) {
                faults.push(digest_mismatch(path, hash, allowed, &entry.file_digest));
            }
        }
        if !measured {
            faults.push(
                Fault::new(
                    FaultName::ImaFileMissing,
                    format!("{path} was never measured by IMA"),
                )
                .with_path(path)
                .values(join(allowed, Digest::hex), "not measured"),
            );
        }
    }
    faults
}

fn digest_mismatch(path: &str, hash: HashAlg, allowed: &[Digest], seen: &Digest) -> Fault {
    let allowed_short = if allowed.is_empty() {
        "none".to_string()
    } else {
        join(allowed, short)
    };
    Fault::new(
        FaultName::ImaFileDigestMismatch,
        format!(
            "{path} measured with {hash} {} which is not an allowed digest (allowed: {allowed_short})",
            short(seen)
        ),
    )
    .with_path(path)
    .values(join(allowed, Digest::hex), seen.hex())
}

fn join(digests: &[Digest], f: impl Fn(&Digest) -> String) -> String {
    digests.iter().map(f).collect::<Vec<_>>().join(", ")
}
