//! Exhaustive properties over every tree of up to 64 leaves: every generated proof
//! verifies; any flipped byte, other index, other size, or other root fails; and hostile
//! sizes and lengths give errors, never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_tlog::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root, root_from_inclusion_proof,
    verify_consistency, verify_inclusion, Hash, MemoryTree, VerifyError,
};

const MAX: u64 = 64;

fn tree() -> (MemoryTree, Vec<Hash>, Vec<Hash>) {
    let leaves: Vec<Vec<u8>> = (0..MAX)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let tree = MemoryTree::from_leaves(&leaves);
    let leaf_hashes = leaves.iter().map(|l| leaf_hash(l)).collect();
    let roots = (0..=MAX).map(|n| root(&tree, n).unwrap()).collect();
    (tree, leaf_hashes, roots)
}

/// Flips one byte of one element: every byte for small trees, a rotating one above, to keep
/// the debug-build run short.
fn flips(proof: &[Hash], n: u64) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for e in 0..proof.len() {
        let bytes: Vec<usize> = if n <= 16 {
            (0..32).collect()
        } else {
            vec![(e * 7 + n as usize) % 32]
        };
        for b in bytes {
            let mut bad = proof.to_vec();
            bad[e][b] ^= 0x01;
            out.push(bad);
        }
    }
    out
}

#[test]
fn every_inclusion_proof_verifies_and_every_corruption_fails() {
    let (tree, leaves, roots) = tree();
    for n in 1..=MAX {
        for i in 0..n {
            let proof = inclusion_proof(&tree, i, n).unwrap();
            let (leaf, head) = (leaves[i as usize], roots[n as usize]);
            assert!(proof.len() <= 64);
            verify_inclusion(i, n, &leaf, &proof, &head).unwrap();
            for bad in flips(&proof, n) {
                assert!(
                    verify_inclusion(i, n, &leaf, &bad, &head).is_err(),
                    "flip {i}/{n}"
                );
            }
            for other in 0..n + 2 {
                if other != i {
                    assert!(
                        verify_inclusion(other, n, &leaf, &proof, &head).is_err(),
                        "index {other} for {i}/{n}"
                    );
                }
            }
            for other in (i + 1)..=MAX {
                if other != n {
                    let r = roots[other as usize];
                    assert!(
                        verify_inclusion(i, other, &leaf, &proof, &r).is_err(),
                        "size {other} for {i}/{n}"
                    );
                }
            }
            let wrong_leaf = leaves[((i + 1) % MAX) as usize];
            assert!(verify_inclusion(i, n, &wrong_leaf, &proof, &head).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert_eq!(
                    verify_inclusion(i, n, &leaf, shorter, &head),
                    Err(VerifyError::ProofTooShort)
                );
            }
            let longer = [&proof[..], &[head]].concat();
            assert_eq!(
                verify_inclusion(i, n, &leaf, &longer, &head),
                Err(VerifyError::ProofTooLong)
            );
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_every_corruption_fails() {
    let (tree, _, roots) = tree();
    for n in 0..=MAX {
        for m in 0..=n {
            let proof = consistency_proof(&tree, m, n).unwrap();
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            verify_consistency(m, n, &r1, &r2, &proof).unwrap();
            for bad in flips(&proof, n) {
                assert!(
                    verify_consistency(m, n, &r1, &r2, &bad).is_err(),
                    "flip {m}->{n}"
                );
            }
            for other in 0..=MAX {
                // Every tree is consistent with the empty one, by an empty proof: not a corruption.
                // And with itself.
                let itself = other == n && proof.is_empty();
                if other != m && other != 0 && other <= n && !itself {
                    let r = roots[other as usize];
                    assert!(
                        verify_consistency(other, n, &r, &r2, &proof).is_err(),
                        "size1 {other} for {m}->{n}"
                    );
                }
                if other != n && other >= m && m != 0 {
                    let r = roots[other as usize];
                    assert!(
                        verify_consistency(m, other, &r1, &r, &proof).is_err(),
                        "size2 {other} for {m}->{n}"
                    );
                }
            }
            if m != n {
                assert!(
                    verify_consistency(m, n, &r2, &r1, &proof).is_err(),
                    "swapped {m}->{n}"
                );
                if m != 0 {
                    assert!(verify_consistency(m, n, &r1, &empty_root(), &proof).is_err());
                }
            }
            if let Some((_, shorter)) = proof.split_last() {
                assert!(
                    verify_consistency(m, n, &r1, &r2, shorter).is_err(),
                    "truncated {m}->{n}"
                );
            }
            let longer = [&proof[..], &[r2]].concat();
            assert!(
                verify_consistency(m, n, &r1, &r2, &longer).is_err(),
                "extended {m}->{n}"
            );
        }
    }
}

#[test]
fn hostile_sizes_and_proofs_give_errors_not_panics() {
    let h = leaf_hash(b"x");
    let long = vec![h; 200];
    for (index, size) in [
        (0, 0),
        (5, 5),
        (u64::MAX, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (0, u64::MAX),
        (1 << 63, u64::MAX),
    ] {
        for proof in [&[][..], &long[..64], &long[..]] {
            assert!(verify_inclusion(index, size, &h, proof, &h).is_err());
            let _ = root_from_inclusion_proof(index, size, &h, proof);
        }
    }
    for (m, n) in [
        (0, u64::MAX),
        (1, u64::MAX),
        (u64::MAX, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (u64::MAX, 0),
        (3, 1 << 63),
    ] {
        for proof in [&[][..], &long[..1], &long[..64], &long[..]] {
            let _ = verify_consistency(m, n, &h, &h, proof);
        }
    }
    // A full-height proof is accepted in shape for the largest trees.
    assert!(root_from_inclusion_proof(0, u64::MAX, &h, &long[..64]).is_ok());
    assert_eq!(
        ironroot_tlog::merkle::hash_from_slice(&[0u8; 31]),
        Err(VerifyError::BadHashLength(31))
    );
}
