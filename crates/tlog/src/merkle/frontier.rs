//! Appending leaves: which perfect subtrees each new leaf completes, and their hashes.
//!
//! Leaf n (0-based) completes the level-l subtree containing it exactly when n + 1 is a
//! multiple of 2^l, that is for l = 0 ..= trailing_ones(n). So a log of n leaves stores
//! fewer than 2n subtree hashes in all, and one append writes 1 + trailing_ones(n) of them:
//! two on average, 1 + log2(n) at most (25 for a log of 10 million). Those stored hashes
//! are all a generator needs.

use super::{fold_from_right, node_hash, range_subtrees, GenerateError, Hash, HashSource, Subtree};

/// The perfect subtrees that appending leaf `leaf_index` completes, smallest first. Store
/// their hashes with the leaf.
pub fn subtrees_completed_by(leaf_index: u64) -> impl Iterator<Item = Subtree> {
    let top = leaf_index.trailing_ones() as u8;
    (0..=top).map(move |level| Subtree {
        level,
        index: leaf_index >> level,
    })
}

/// The subtrees appending leaf `leaf_index` with hash `leaf` completes, with their hashes.
/// Reads the left siblings (already stored) from `source`: one read per level above 0.
pub fn hashes_on_append<S: HashSource>(
    source: &S,
    leaf_index: u64,
    leaf: Hash,
) -> Result<Vec<(Subtree, Hash)>, S::Error> {
    let mut out = Vec::with_capacity(leaf_index.trailing_ones() as usize + 1);
    let mut hash = leaf;
    for subtree in subtrees_completed_by(leaf_index) {
        if subtree.level > 0 {
            // The new subtree's left half: the sibling of the one just completed.
            let left = source.subtree_hash(Subtree {
                level: subtree.level - 1,
                index: subtree.index << 1,
            })?;
            hash = node_hash(&left, &hash);
        }
        out.push((subtree, hash));
    }
    Ok(out)
}

/// The right edge of a tree: the hashes of the perfect subtrees that make up its leaves
/// (one per set bit of the size, largest first). Enough to compute the head and every hash
/// an append stores, without reading the store: an appender loads it once (O(log n) reads)
/// and then appends any number of leaves from memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the tree of `size` leaves held by `source`.
    pub fn load<S: HashSource>(source: &S, size: u64) -> Result<Self, GenerateError<S::Error>> {
        let pieces = range_subtrees(0, size).ok_or(GenerateError::Misaligned {
            start: 0,
            len: size,
        })?;
        let hashes = pieces
            .into_iter()
            .map(|s| source.subtree_hash(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(GenerateError::Source)?;
        Ok(Frontier { size, hashes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree head, MTH of all leaves.
    pub fn root(&self) -> Hash {
        fold_from_right(&self.hashes)
    }

    /// Appends the leaf with hash `leaf` and returns the subtrees it completes with their
    /// hashes (what [`hashes_on_append`] returns), smallest first. `None` when the tree
    /// already holds u64::MAX leaves.
    pub fn push(&mut self, leaf: Hash) -> Option<Vec<(Subtree, Hash)>> {
        let leaf_index = self.size;
        let size = leaf_index.checked_add(1)?;
        let mut out = Vec::with_capacity(leaf_index.trailing_ones() as usize + 1);
        let mut hash = leaf;
        for subtree in subtrees_completed_by(leaf_index) {
            if subtree.level > 0 {
                // The low set bits of the old size are the smallest frontier entries, in
                // the order these merges need them.
                let left = self.hashes.pop()?;
                hash = node_hash(&left, &hash);
            }
            out.push((subtree, hash));
        }
        self.hashes.push(hash);
        self.size = size;
        Some(out)
    }
}
