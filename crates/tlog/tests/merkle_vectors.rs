//! The RFC 6962 reference vectors (fixtures/rfc6962-vectors.txt, sources in
//! fixtures/README.md): tree heads, subtree hashes, and the published inclusion and
//! consistency proofs, generated here byte for byte and verified, with the corruptions the
//! reference implementation's tests apply rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_tlog::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion, Hash, HashSource, MemoryTree, Subtree, VerifyError,
};

struct Vectors {
    leaves: Vec<Vec<u8>>,
    roots: Vec<(u64, Hash)>,
    nodes: Vec<(Subtree, Hash)>,
    inclusions: Vec<(u64, u64, Vec<Hash>)>,
    consistencies: Vec<(u64, u64, Vec<Hash>)>,
}

fn hash(hex_text: &str) -> Hash {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn hashes(field: &str) -> Vec<Hash> {
    if field == "-" {
        return vec![];
    }
    field.split(',').map(hash).collect()
}

fn vectors() -> Vectors {
    let mut v = Vectors {
        leaves: vec![],
        roots: vec![],
        nodes: vec![],
        inclusions: vec![],
        consistencies: vec![],
    };
    for line in include_str!("fixtures/rfc6962-vectors.txt").lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "leaf" if f[1] == "-" => v.leaves.push(vec![]),
            "leaf" => v.leaves.push(hex::decode(f[1]).unwrap()),
            "root" => v.roots.push((f[1].parse().unwrap(), hash(f[2]))),
            "node" => v.nodes.push((
                Subtree {
                    level: f[1].parse().unwrap(),
                    index: f[2].parse().unwrap(),
                },
                hash(f[3]),
            )),
            "inclusion" => {
                v.inclusions
                    .push((f[1].parse().unwrap(), f[2].parse().unwrap(), hashes(f[3])))
            }
            "consistency" => {
                v.consistencies
                    .push((f[1].parse().unwrap(), f[2].parse().unwrap(), hashes(f[3])))
            }
            _ => assert!(line.starts_with('#'), "unknown line {line}"),
        }
    }
    assert_eq!(v.leaves.len(), 8);
    assert_eq!(v.roots.len(), 9);
    assert_eq!(v.nodes.len(), 15);
    assert_eq!(v.inclusions.len(), 5);
    assert_eq!(v.consistencies.len(), 5);
    v
}

fn root_of(v: &Vectors, size: u64) -> Hash {
    v.roots.iter().find(|(s, _)| *s == size).unwrap().1
}

#[test]
fn tree_heads_and_subtree_hashes_match_the_reference() {
    let v = vectors();
    assert_eq!(root_of(&v, 0), empty_root());
    let tree = MemoryTree::from_leaves(&v.leaves);
    for (size, expected) in &v.roots {
        assert_eq!(root(&tree, *size).unwrap(), *expected, "size {size}");
        let prefix = MemoryTree::from_leaves(&v.leaves[..*size as usize]);
        assert_eq!(prefix.root(), *expected, "appended size {size}");
    }
    for (subtree, expected) in &v.nodes {
        assert_eq!(
            tree.subtree_hash(*subtree).unwrap(),
            *expected,
            "{subtree:?}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_reference_and_verify() {
    let v = vectors();
    let tree = MemoryTree::from_leaves(&v.leaves);
    for (index, size, expected) in &v.inclusions {
        let proof = inclusion_proof(&tree, *index, *size).unwrap();
        assert_eq!(&proof, expected, "PATH({index}, D[{size}])");
        let leaf = leaf_hash(&v.leaves[*index as usize]);
        let head = root_of(&v, *size);
        verify_inclusion(*index, *size, &leaf, &proof, &head).unwrap();
        for (i, n, l, p, r, what) in inclusion_probes(*index, *size, leaf, &proof, head) {
            assert!(
                verify_inclusion(i, n, &l, &p, &r).is_err(),
                "{what} verified for PATH({index}, D[{size}])"
            );
        }
    }
}

type ConsistencyProbe = (u64, u64, Hash, Hash, Vec<Hash>, &'static str);
type InclusionProbe = (u64, u64, Hash, Vec<Hash>, Hash, String);

/// The corruptions of transparency-dev/merkle's `corruptInclusionProof`.
fn inclusion_probes(
    index: u64,
    size: u64,
    leaf: Hash,
    proof: &[Hash],
    head: Hash,
) -> Vec<InclusionProbe> {
    let some = hash("abacaba000000000000000000000000000000000000000000060061e00123456");
    let mut out: Vec<InclusionProbe> = vec![
        (
            index.wrapping_sub(1),
            size,
            leaf,
            proof.to_vec(),
            head,
            "index - 1".into(),
        ),
        (
            index + 1,
            size,
            leaf,
            proof.to_vec(),
            head,
            "index + 1".into(),
        ),
        (
            index ^ 2,
            size,
            leaf,
            proof.to_vec(),
            head,
            "index ^ 2".into(),
        ),
        (
            index,
            size * 2,
            leaf,
            proof.to_vec(),
            head,
            "size * 2".into(),
        ),
        (
            index,
            size / 2,
            leaf,
            proof.to_vec(),
            head,
            "size / 2".into(),
        ),
        (
            index,
            size,
            leaf_hash(b"WrongLeaf"),
            proof.to_vec(),
            head,
            "wrong leaf".into(),
        ),
        (
            index,
            size,
            leaf,
            proof.to_vec(),
            empty_root(),
            "empty root".into(),
        ),
        (
            index,
            size,
            leaf,
            proof.to_vec(),
            some,
            "random root".into(),
        ),
        (
            index,
            size,
            leaf,
            [proof, &[head]].concat(),
            head,
            "trailing root".into(),
        ),
        (
            index,
            size,
            leaf,
            [&[head], proof].concat(),
            head,
            "preceding root".into(),
        ),
    ];
    for i in 0..proof.len() {
        let mut bad = proof.to_vec();
        bad[i][0] ^= 8;
        out.push((index, size, leaf, bad, head, format!("proof[{i}] bit 3")));
    }
    if let Some((_, shorter)) = proof.split_last() {
        out.push((
            index,
            size,
            leaf,
            shorter.to_vec(),
            head,
            "removed component".into(),
        ));
    }
    if proof.len() > 1 {
        let mut inserted = proof.to_vec();
        inserted.insert(1, some);
        out.push((
            index,
            size,
            leaf,
            inserted,
            head,
            "inserted component".into(),
        ));
    }
    out
}

#[test]
fn consistency_proofs_match_the_reference_and_verify() {
    let v = vectors();
    let tree = MemoryTree::from_leaves(&v.leaves);
    for (first, second, expected) in &v.consistencies {
        let proof = consistency_proof(&tree, *first, *second).unwrap();
        assert_eq!(&proof, expected, "PROOF({first}, D[{second}])");
        let (r1, r2) = (root_of(&v, *first), root_of(&v, *second));
        verify_consistency(*first, *second, &r1, &r2, &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        let wrong = hash(&"11".repeat(32));
        let probes: Vec<ConsistencyProbe> = vec![
            (first - 1, *second, r1, r2, proof.clone(), "size1 - 1"),
            (first + 1, *second, r1, r2, proof.clone(), "size1 + 1"),
            (first ^ 2, *second, r1, r2, proof.clone(), "size1 ^ 2"),
            (*first, second * 2, r1, r2, proof.clone(), "size2 * 2"),
            (*first, second / 2, r1, r2, proof.clone(), "size2 / 2"),
            (*first, *second, wrong, r2, proof.clone(), "wrong root1"),
            (*first, *second, r1, wrong, proof.clone(), "wrong root2"),
            (*first, *second, r2, r1, proof.clone(), "swapped roots"),
            (*first, *second, r1, r2, vec![], "empty proof"),
            (
                *first,
                *second,
                r1,
                r2,
                [&proof[..], &[r1]].concat(),
                "trailing root1",
            ),
            (
                *first,
                *second,
                r1,
                r2,
                [&proof[..], &[r2]].concat(),
                "trailing root2",
            ),
            (
                *first,
                *second,
                r1,
                r2,
                [&[r1], &proof[..]].concat(),
                "preceding root1",
            ),
            (
                *first,
                *second,
                r1,
                r2,
                [&[r2], &proof[..]].concat(),
                "preceding root2",
            ),
            (
                *first,
                *second,
                r1,
                r2,
                [&proof[..1], &proof[..]].concat(),
                "preceding proof[0]",
            ),
            (
                *first,
                *second,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
                "truncated",
            ),
        ];
        for (m, n, a, b, p, what) in probes {
            assert!(
                verify_consistency(m, n, &a, &b, &p).is_err(),
                "{what} verified for PROOF({first}, D[{second}])"
            );
        }
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i][0] ^= 16;
            assert!(
                verify_consistency(*first, *second, &r1, &r2, &bad).is_err(),
                "proof[{i}] bit 4"
            );
        }
    }
}

/// transparency-dev/merkle's `TestVerifyConsistency` table of trivial sizes; the one
/// difference: size 0 must come with the empty tree's head (see `verify_consistency`).
#[test]
fn trivial_consistency_cases() {
    let (a, b) = (hash(&"aa".repeat(32)), hash(&"bb".repeat(32)));
    let empty = empty_root();
    assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 1, &empty, &b, &[]), Ok(()));
    assert_eq!(verify_consistency(1, 1, &b, &b, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, 1, &a, &b, &[]),
        Err(VerifyError::FirstRootMismatch)
    );
    assert_eq!(
        verify_consistency(1, 1, &a, &b, &[]),
        Err(VerifyError::SecondRootMismatch)
    );
    assert_eq!(
        verify_consistency(1, 0, &a, &b, &[]),
        Err(VerifyError::SizeOrder {
            first: 1,
            second: 0
        })
    );
    assert!(verify_consistency(2, 1, &a, &b, &[]).is_err());
    assert_eq!(
        verify_consistency(1, 2, &a, &b, &[]),
        Err(VerifyError::ProofTooShort)
    );
    for (m, n) in [(0, 0), (0, 1), (1, 1)] {
        assert_eq!(
            verify_consistency(m, n, &empty, &empty, &[empty]),
            Err(VerifyError::ProofNotEmpty)
        );
    }
}

/// `TestVerifyInclusionSingleEntry`: in a one-leaf tree the leaf hash is the head.
#[test]
fn single_entry_inclusion() {
    let h = leaf_hash(b"data");
    assert_eq!(verify_inclusion(0, 1, &h, &[], &h), Ok(()));
    assert_eq!(
        verify_inclusion(0, 1, &h, &[], &empty_root()),
        Err(VerifyError::RootMismatch)
    );
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert_eq!(
            verify_inclusion(index, size, &h, &[], &h),
            Err(VerifyError::IndexOutOfRange { index, size })
        );
    }
}
