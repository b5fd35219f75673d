//! RFC 9162 proof verification over hostile input: never panics. Input: u64 BE `a` (leaf
//! index or first size), u64 BE `b` (tree size or second size), then 32-byte hashes (leaf
//! or first root, root or second root, then the proof). Also, in a real tree of 1..=64
//! leaves picked by the input, the generated proofs must verify and a proof with one byte
//! flipped by the input must not.
#![no_main]

use ironroot_tlog::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root, root_from_inclusion_proof,
    verify_consistency, verify_inclusion, Hash, MemoryTree,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((a, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let Some((b, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let (a, b) = (u64::from_be_bytes(*a), u64::from_be_bytes(*b));
    let hashes: Vec<Hash> = rest
        .chunks_exact(32)
        .take(80)
        .filter_map(|c| Hash::try_from(c).ok())
        .collect();
    let zero = [0u8; 32];
    let h1 = hashes.first().copied().unwrap_or(zero);
    let h2 = hashes.get(1).copied().unwrap_or(zero);
    let proof = hashes.get(2..).unwrap_or_default();
    let _ = verify_inclusion(a, b, &h1, proof, &h2);
    let _ = root_from_inclusion_proof(a, b, &h1, proof);
    let _ = verify_consistency(a, b, &h1, &h2, proof);

    // The real-tree check.
    let n = b % 64 + 1;
    let leaves: Vec<[u8; 8]> = (0..n).map(|i| i.to_be_bytes()).collect();
    let tree = MemoryTree::from_leaves(&leaves);
    let (index, first) = (a % n, a % (n + 1));
    let flip = rest.first().copied().unwrap_or(0) as usize;
    let Ok(head) = root(&tree, n) else { return };
    if let Ok(p) = inclusion_proof(&tree, index, n) {
        let leaf = leaf_hash(&leaves[index as usize]);
        assert!(verify_inclusion(index, n, &leaf, &p, &head).is_ok());
        if !p.is_empty() {
            let mut bad = p.clone();
            bad[flip % p.len()][flip % 32] ^= 1;
            assert!(verify_inclusion(index, n, &leaf, &bad, &head).is_err());
        }
    }
    if let (Ok(p), Ok(old)) = (consistency_proof(&tree, first, n), root(&tree, first)) {
        assert!(verify_consistency(first, n, &old, &head, &p).is_ok());
        if !p.is_empty() {
            let mut bad = p.clone();
            bad[flip % p.len()][flip % 32] ^= 1;
            assert!(verify_consistency(first, n, &old, &head, &bad).is_err());
        }
    }
});
