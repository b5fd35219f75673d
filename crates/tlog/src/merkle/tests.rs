use super::*;

#[test]
fn split_point_is_the_largest_power_of_two_below_n() {
    assert_eq!(split_point(2), 1);
    assert_eq!(split_point(3), 2);
    assert_eq!(split_point(4), 2);
    assert_eq!(split_point(5), 4);
    assert_eq!(split_point(8), 4);
    assert_eq!(split_point(9), 8);
    assert_eq!(split_point(u64::MAX), 1 << 63);
}

#[test]
fn range_subtrees_follow_the_bits_of_the_length() {
    assert_eq!(range_subtrees(0, 0), Some(vec![]));
    assert_eq!(
        range_subtrees(0, 6),
        Some(vec![
            Subtree { level: 2, index: 0 },
            Subtree { level: 1, index: 2 }
        ])
    );
    assert_eq!(
        range_subtrees(8, 7).map(|v| v.len()),
        Some(3),
        "8..15 is 4 + 2 + 1 leaves"
    );
    // 1..3 starts inside a pair: not a range the RFC recursion produces.
    assert_eq!(range_subtrees(1, 2), None);
    assert!(range_subtrees(0, u64::MAX).is_some());
}

#[test]
fn subtree_bounds_saturate_on_hostile_levels() {
    let s = Subtree {
        level: 200,
        index: 3,
    };
    assert_eq!(s.start(), u64::MAX);
    assert_eq!(s.len(), u64::MAX);
    assert_eq!(Subtree { level: 3, index: 2 }.start(), 16);
}

#[test]
fn an_append_stores_one_plus_trailing_ones_subtrees() {
    let levels = |n: u64| {
        subtrees_completed_by(n)
            .map(|s| (s.level, s.index))
            .collect::<Vec<_>>()
    };
    assert_eq!(levels(0), vec![(0, 0)]);
    assert_eq!(levels(1), vec![(0, 1), (1, 0)]);
    assert_eq!(levels(2), vec![(0, 2)]);
    assert_eq!(levels(7), vec![(0, 7), (1, 3), (2, 1), (3, 0)]);
    assert_eq!(subtrees_completed_by(u64::MAX - 1).count(), 1);
    // Fewer than two per leaf over any prefix.
    let total: usize = (0..1000u64).map(|n| subtrees_completed_by(n).count()).sum();
    assert!(total < 2000, "{total}");
}

#[test]
fn frontier_and_store_reads_agree_on_every_append() {
    let mut tree = MemoryTree::new();
    for n in 0..100u64 {
        let leaf = leaf_hash(&n.to_be_bytes());
        let expected = hashes_on_append(&tree, n, leaf).unwrap();
        let mut frontier = Frontier::load(&tree, n).unwrap();
        assert_eq!(frontier.root(), tree.root());
        assert_eq!(frontier.push(leaf).unwrap(), expected);
        tree.push_leaf_hash(leaf);
        assert_eq!(frontier.root(), tree.root());
        assert_eq!(root(&tree, n + 1).unwrap(), tree.root());
    }
}

#[test]
fn planners_list_exactly_what_the_generators_read() {
    let tree = MemoryTree::from_leaves(&(0..37u32).map(|i| i.to_be_bytes()).collect::<Vec<_>>());
    for size in 1..=37u64 {
        for index in 0..size {
            let wanted = inclusion_proof_subtrees(index, size).unwrap();
            assert!(wanted.len() <= 2 * 64);
            let subset = MemoryTree::from_subtrees(
                wanted.iter().map(|s| (*s, tree.subtree_hash(*s).unwrap())),
            );
            assert_eq!(
                inclusion_proof(&subset, index, size).unwrap(),
                inclusion_proof(&tree, index, size).unwrap()
            );
        }
        for first in 0..=size {
            let wanted = consistency_proof_subtrees(first, size).unwrap();
            let subset = MemoryTree::from_subtrees(
                wanted.iter().map(|s| (*s, tree.subtree_hash(*s).unwrap())),
            );
            assert_eq!(
                consistency_proof(&subset, first, size).unwrap(),
                consistency_proof(&tree, first, size).unwrap()
            );
        }
        let wanted = root_subtrees(size).unwrap();
        assert_eq!(wanted.len(), size.count_ones() as usize);
    }
}

#[test]
fn proof_reads_stay_logarithmic_for_a_log_of_ten_million() {
    let size = 10_000_000u64;
    for index in [0, 1, size / 2, size - 2, size - 1] {
        let reads = inclusion_proof_subtrees(index, size).unwrap().len();
        assert!(reads <= 2 * 24, "index {index}: {reads} reads");
    }
    let reads = consistency_proof_subtrees(size - 12_345, size)
        .unwrap()
        .len();
    assert!(reads <= 2 * 24, "{reads} reads");
}

#[test]
fn generators_refuse_impossible_requests() {
    let tree = MemoryTree::from_leaves(&[b"a", b"b"]);
    assert_eq!(
        inclusion_proof(&tree, 2, 2),
        Err(GenerateError::IndexOutOfRange { index: 2, size: 2 })
    );
    assert_eq!(
        inclusion_proof(&tree, 0, 0),
        Err(GenerateError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        consistency_proof(&tree, 3, 2),
        Err(GenerateError::SizeOrder {
            first: 3,
            second: 2
        })
    );
    // Asking beyond what the store holds is the store's error, not a panic.
    assert!(matches!(
        inclusion_proof(&tree, 0, 5),
        Err(GenerateError::Source(MissingSubtree(_)))
    ));
    assert_eq!(root(&tree, 0).unwrap(), empty_root());
}
