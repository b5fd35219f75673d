//! A whole tree in memory: every perfect subtree hash, about 2n of them. For tests, for
//! small logs, and as the map a store fills from one query before generating a proof.

use super::{leaf_hash, Frontier, Hash, HashSource, Subtree};
use std::collections::HashMap;

/// A perfect subtree the tree does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("subtree at level {} index {} is not stored", .0.level, .0.index)]
pub struct MissingSubtree(pub Subtree);

/// A tree held as its stored subtree hashes, appended to through a [`Frontier`].
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    frontier: Frontier,
    stored: HashMap<Subtree, Hash>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of these leaves' data.
    pub fn from_leaves<D: AsRef<[u8]>>(leaves: &[D]) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push_leaf_hash(leaf_hash(leaf.as_ref()));
        }
        tree
    }

    /// A map of subtree hashes, such as the rows a store returned for a planner's list.
    /// Only those subtrees can be read; the size and head are not known.
    pub fn from_subtrees(stored: impl IntoIterator<Item = (Subtree, Hash)>) -> Self {
        MemoryTree {
            frontier: Frontier::new(),
            stored: stored.into_iter().collect(),
        }
    }

    /// Appends a leaf by its leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.frontier.size();
        if let Some(completed) = self.frontier.push(leaf) {
            self.stored.extend(completed);
        }
        index
    }

    /// The number of leaves appended.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current tree head.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }
}

impl HashSource for MemoryTree {
    type Error = MissingSubtree;

    fn subtree_hash(&self, subtree: Subtree) -> Result<Hash, MissingSubtree> {
        self.stored
            .get(&subtree)
            .copied()
            .ok_or(MissingSubtree(subtree))
    }
}
