//! Proof verification, step by step as RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
//! (consistency) write it. Proofs arrive from the network or a bundle, so every input is
//! hostile: nothing here panics, allocates, or loops longer than the proof.

use super::{empty_root, node_hash, Hash, HASH_LEN};

/// Why a proof does not verify. Each says which check failed, for `audit verify` to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("a hash must be {HASH_LEN} bytes, got {0}")]
    BadHashLength(usize),
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size went backwards: {first} then {second}")]
    SizeOrder { first: u64, second: u64 },
    #[error("the proof has more hashes than the tree sizes allow")]
    ProofTooLong,
    #[error("the proof has fewer hashes than the tree sizes need")]
    ProofTooShort,
    #[error("the proof must be empty for these tree sizes")]
    ProofNotEmpty,
    #[error("the proof leads to a different root hash")]
    RootMismatch,
    #[error("the proof does not lead to the older tree's root hash")]
    FirstRootMismatch,
    #[error("the proof does not lead to the newer tree's root hash")]
    SecondRootMismatch,
}

/// A tree hash from bytes of untrusted length.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, VerifyError> {
    Hash::try_from(bytes).map_err(|_| VerifyError::BadHashLength(bytes.len()))
}

/// Right-shifts `fn_` and `sn` together until `fn_`'s low bit is set or it is 0 (the RFC's
/// "right-shift both equally until either LSB(fn) is set or fn is 0").
fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// The root that leaf `index` with hash `leaf` and this inclusion proof give for a tree of
/// `size` leaves (RFC 9162 §2.1.3.2 steps 1-4, and step 5's `sn == 0` check).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    // Step 1.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // Steps 2 and 3.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if sn == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5, first half.
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok(r)
}

/// Checks that leaf `index` with hash `leaf` is in the tree of `size` leaves whose head is
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    // Step 5, second half.
    if root_from_inclusion_proof(index, size, leaf, proof)? != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `first` leaves with head `first_root` is a prefix of the tree of
/// `second` leaves with head `second_root` (RFC 9162 §2.1.4.2).
///
/// The RFC defines proofs for 0 < first < second. Outside that: equal sizes need an empty
/// proof and equal roots; size 0 needs an empty proof and the empty tree's head (stricter
/// than accepting any claimed root for an empty tree: a log that says otherwise is lying).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if first > second {
        return Err(VerifyError::SizeOrder { first, second });
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(VerifyError::ProofNotEmpty);
        }
        if first == 0 && *first_root != empty_root() {
            return Err(VerifyError::FirstRootMismatch);
        }
        if first == second && first_root != second_root {
            return Err(VerifyError::SecondRootMismatch);
        }
        return Ok(());
    }
    // Step 1.
    let Some((head, tail)) = proof.split_first() else {
        return Err(VerifyError::ProofTooShort);
    };
    // Steps 2 and 5: with `first` a power of two, first_root is prepended, so it is the
    // starting value and the whole proof follows it.
    let (start, rest) = if first.is_power_of_two() {
        (first_root, proof)
    } else {
        (head, tail)
    };
    // Steps 3 and 4.
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if fr != *first_root {
        return Err(VerifyError::FirstRootMismatch);
    }
    if sr != *second_root {
        return Err(VerifyError::SecondRootMismatch);
    }
    Ok(())
}
