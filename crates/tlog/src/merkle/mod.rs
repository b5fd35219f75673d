//! Merkle hash trees as RFC 9162 §2.1 defines them (the same tree as RFC 6962 §2.1): the
//! hashes, the tree head, inclusion and consistency proofs and their verification.
//!
//! The log holds millions of leaves in a database, so nothing here needs them all in
//! memory. A tree is read through [`HashSource`], which only ever asks for *perfect*
//! subtrees: 2^k leaves starting at a multiple of 2^k ([`Subtree`]). Those are exactly the
//! nodes that never change once written, so a store can keep them forever:
//! [`subtrees_completed_by`] lists which ones appending a leaf completes (on average two,
//! at most 1 + log2(n)), and [`Frontier`] computes their hashes without reading anything.
//!
//! Costs, for a tree of n leaves: a tree head, an inclusion proof or a consistency proof
//! reads O(log n) perfect subtrees (at most 2·64 for any u64 size) and hashes O(log n)
//! nodes; verifying a proof hashes O(log n) nodes and allocates nothing. The `*_subtrees`
//! planners say up front which subtrees a generator will read, so a store can fetch them
//! in one query and answer from a map ([`MemoryTree`] is the in-memory store for tests and
//! small logs).

mod frontier;
mod generate;
mod memory;
mod verify;

pub use frontier::{hashes_on_append, subtrees_completed_by, Frontier};
pub use generate::{
    consistency_proof, consistency_proof_subtrees, inclusion_proof, inclusion_proof_subtrees, root,
    root_subtrees, GenerateError,
};
pub use memory::{MemoryTree, MissingSubtree};
pub use verify::{
    hash_from_slice, root_from_inclusion_proof, verify_consistency, verify_inclusion, VerifyError,
};

use ironroot_crypto::{HashAlg, Hasher};

/// Length of every hash in the tree (SHA-256).
pub const HASH_LEN: usize = 32;

/// A SHA-256 tree hash: a leaf hash, an interior node hash or a root.
pub type Hash = [u8; HASH_LEN];

/// RFC 9162 §2.1.1: the domain-separation byte before a leaf's data.
const LEAF_PREFIX: u8 = 0x00;
/// RFC 9162 §2.1.1: the domain-separation byte before two child hashes.
const NODE_PREFIX: u8 = 0x01;

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Hasher::new(HashAlg::Sha256);
    for part in parts {
        hasher.update(part);
    }
    let mut out = [0u8; HASH_LEN];
    let digest = hasher.finish();
    if digest.len() == HASH_LEN {
        out.copy_from_slice(&digest);
    }
    out
}

/// `MTH({d(0)}) = SHA-256(0x00 || d(0))` (RFC 9162 §2.1.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    sha256(&[&[LEAF_PREFIX], data])
}

/// `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[NODE_PREFIX], left, right])
}

/// `MTH({}) = SHA-256()`, the head of the empty tree (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// The largest power of two strictly smaller than `n` (RFC 9162 §2.1.1's k); `n >= 2`.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n.max(2) - 1).leading_zeros())
}

/// A perfect subtree: the 2^`level` leaves starting at leaf `index << level`. Level 0 is a
/// single leaf, whose hash is its leaf hash. These are the nodes a store keeps, addressed
/// by (level, index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    pub level: u8,
    pub index: u64,
}

impl Subtree {
    /// The first leaf it covers (saturating, so a hostile level cannot overflow).
    pub fn start(self) -> u64 {
        self.index
            .checked_shl(self.level.into())
            .unwrap_or(u64::MAX)
    }

    /// The number of leaves it covers.
    pub fn len(self) -> u64 {
        1u64.checked_shl(self.level.into()).unwrap_or(u64::MAX)
    }

    /// A perfect subtree is never empty; this exists for clippy's `len_without_is_empty`.
    pub fn is_empty(self) -> bool {
        false
    }
}

/// Where a tree's perfect subtree hashes come from: a database, tiles, or memory.
///
/// Generators ask only for subtrees that lie entirely inside the tree they were given the
/// size of, so an implementation may fail for any other request.
pub trait HashSource {
    type Error;

    /// The hash of `subtree`, which must be complete in the stored tree.
    fn subtree_hash(&self, subtree: Subtree) -> Result<Hash, Self::Error>;

    /// The leaf hash of leaf `index` (the level-0 subtree).
    fn leaf_hash(&self, index: u64) -> Result<Hash, Self::Error> {
        self.subtree_hash(Subtree { level: 0, index })
    }
}

/// The perfect subtrees whose hashes, folded from the right, give MTH of the `len` leaves
/// from `start`, largest first: one per set bit of `len`. Correct for every range RFC 9162's
/// recursion produces, whose start is a multiple of the smallest power of two >= `len`;
/// `None` for any other range.
fn range_subtrees(start: u64, len: u64) -> Option<Vec<Subtree>> {
    let mut out = Vec::with_capacity(len.count_ones() as usize);
    let mut at = start;
    for level in (0..64u8).rev() {
        let piece = 1u64 << level;
        if len & piece == 0 {
            continue;
        }
        if !at.is_multiple_of(piece) {
            return None;
        }
        out.push(Subtree {
            level,
            index: at >> level,
        });
        at = at.checked_add(piece)?;
    }
    Some(out)
}

/// Folds perfect subtree hashes (largest first) into the head of the range they cover.
fn fold_from_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

#[cfg(test)]
mod tests;
