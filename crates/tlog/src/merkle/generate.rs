//! Tree heads and proofs from a [`HashSource`]: MTH (RFC 9162 §2.1.1), PATH (§2.1.3.1) and
//! PROOF/SUBPROOF (§2.1.4.1), written as loops over the RFC's recursion.
//!
//! Along either recursion at most one sibling is not a perfect subtree (the first right
//! sibling taken; everything below it is perfect), so a proof reads O(log n) subtrees.

use super::{fold_from_right, range_subtrees, split_point, Hash, HashSource, Subtree};
use std::cell::RefCell;

/// Why a tree head or proof could not be produced.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenerateError<E> {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("no consistency proof from size {first} to the smaller size {second}")]
    SizeOrder { first: u64, second: u64 },
    /// A range the RFC recursion never produces; a bug, reported rather than guessed at.
    #[error("leaf range {start}+{len} is not made of aligned perfect subtrees")]
    Misaligned { start: u64, len: u64 },
    #[error("reading a subtree hash failed: {0}")]
    Source(E),
}

/// MTH of the `len` leaves from `start`: O(log len) reads.
fn range_hash<S: HashSource>(
    source: &S,
    start: u64,
    len: u64,
) -> Result<Hash, GenerateError<S::Error>> {
    let pieces = range_subtrees(start, len).ok_or(GenerateError::Misaligned { start, len })?;
    let hashes = pieces
        .into_iter()
        .map(|s| source.subtree_hash(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(GenerateError::Source)?;
    Ok(fold_from_right(&hashes))
}

/// The tree head MTH(D[0:size]); the empty tree's is SHA-256 of nothing.
pub fn root<S: HashSource>(source: &S, size: u64) -> Result<Hash, GenerateError<S::Error>> {
    range_hash(source, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, PATH(m, D[n]) of
/// RFC 9162 §2.1.3.1, bottom-up as the RFC lists it.
pub fn inclusion_proof<S: HashSource>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, GenerateError<S::Error>> {
    if index >= size {
        return Err(GenerateError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k,
    //                 PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise. Collected top-down.
    let (mut start, mut n, mut m) = (0u64, size, index);
    let mut path = Vec::new();
    while n > 1 {
        let k = split_point(n);
        if m < k {
            path.push(range_hash(source, start + k, n - k)?);
            n = k;
        } else {
            path.push(range_hash(source, start, k)?);
            start += k;
            n -= k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof from the tree of `first` leaves to the tree of `second` leaves,
/// PROOF(m, D[n]) of RFC 9162 §2.1.4.1. Empty when `first` is 0 or equals `second` (every
/// tree is consistent with the empty tree and with itself).
pub fn consistency_proof<S: HashSource>(
    source: &S,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, GenerateError<S::Error>> {
    if first > second {
        return Err(GenerateError::SizeOrder { first, second });
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[n], b): m == n -> {} if b, else {MTH(D[n])};
    // m <= k -> SUBPROOF(m, D[0:k], b) : MTH(D[k:n]);
    // m > k -> SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]). Collected top-down.
    let (mut start, mut n, mut m, mut whole) = (0u64, second, first, true);
    let mut path = Vec::new();
    while m != n {
        let k = split_point(n);
        if m <= k {
            path.push(range_hash(source, start + k, n - k)?);
            n = k;
        } else {
            path.push(range_hash(source, start, k)?);
            start += k;
            n -= k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        path.push(range_hash(source, start, n)?);
    }
    path.reverse();
    Ok(path)
}

/// A source that answers nothing real and writes down what it was asked, so the planners
/// below list exactly the reads of the generators (the control flow of the generators
/// depends only on sizes, never on hash values).
struct Recorder(RefCell<Vec<Subtree>>);

impl HashSource for Recorder {
    type Error = std::convert::Infallible;

    fn subtree_hash(&self, subtree: Subtree) -> Result<Hash, Self::Error> {
        self.0.borrow_mut().push(subtree);
        Ok([0u8; 32])
    }
}

fn plan<T>(
    run: impl FnOnce(&Recorder) -> Result<T, GenerateError<std::convert::Infallible>>,
) -> Result<Vec<Subtree>, GenerateError<std::convert::Infallible>> {
    let recorder = Recorder(RefCell::new(Vec::new()));
    run(&recorder)?;
    let mut wanted = recorder.0.into_inner();
    wanted.sort_unstable();
    wanted.dedup();
    Ok(wanted)
}

/// The perfect subtrees [`root`] reads for a tree of `size` leaves (sorted, distinct).
pub fn root_subtrees(size: u64) -> Result<Vec<Subtree>, GenerateError<std::convert::Infallible>> {
    plan(|r| root(r, size))
}

/// The perfect subtrees [`inclusion_proof`] reads (sorted, distinct): fetch them in one
/// query, then generate from a map of them.
pub fn inclusion_proof_subtrees(
    index: u64,
    size: u64,
) -> Result<Vec<Subtree>, GenerateError<std::convert::Infallible>> {
    plan(|r| inclusion_proof(r, index, size))
}

/// The perfect subtrees [`consistency_proof`] reads (sorted, distinct).
pub fn consistency_proof_subtrees(
    first: u64,
    second: u64,
) -> Result<Vec<Subtree>, GenerateError<std::convert::Infallible>> {
    plan(|r| consistency_proof(r, first, second))
}
