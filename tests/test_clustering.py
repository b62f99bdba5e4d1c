from __future__ import annotations

import numpy as np

from common.clustering import community_groups, representative
from common.vectors import normalize


def _around(centre: list[float], spread: float, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array(centre) + spread * rng.standard_normal((count, len(centre)))


def test_community_groups_finds_separate_groups_and_leaves_singletons_out() -> None:
    vectors = normalize(
        np.vstack([_around([1, 0, 0, 0], 0.05, 4, 1), _around([0, 1, 0, 0], 0.05, 3, 2), [[0, 0, 1, 0]]])
    )
    groups = community_groups(vectors, threshold=0.9, min_size=2)
    assert [group.members for group in groups] == [[0, 1, 2, 3], [4, 5, 6]]


def test_community_groups_does_not_merge_a_chain_of_small_steps() -> None:
    # Each step is ~0.95 from the next, but the ends are ~0.2 apart: one group would join different goals.
    angles = np.linspace(0, 1.4, 8)
    vectors = normalize(np.column_stack([np.cos(angles), np.sin(angles)]))
    groups = community_groups(vectors, threshold=0.95, min_size=2)
    for group in groups:
        members = vectors[group.members]
        assert (members @ members.T).min() >= 0.8, f"group {group.members} spans a chain"


def test_community_groups_are_disjoint_and_deterministic() -> None:
    vectors = normalize(np.random.default_rng(3).standard_normal((200, 5)))
    first = community_groups(vectors, threshold=0.8, min_size=2)
    members = [m for group in first for m in group.members]
    assert len(members) == len(set(members))
    assert first == community_groups(vectors, threshold=0.8, min_size=2)
    assert [len(g.members) for g in first] == sorted((len(g.members) for g in first), reverse=True)


def test_community_groups_respects_min_size() -> None:
    vectors = normalize(np.vstack([_around([1, 0, 0], 0.02, 3, 4), _around([0, 1, 0], 0.02, 2, 5)]))
    assert [group.members for group in community_groups(vectors, threshold=0.9, min_size=3)] == [[0, 1, 2]]


def test_representative_is_the_member_closest_to_all_others() -> None:
    vectors = normalize(np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.95, 0.3]]))
    assert representative(vectors, np.arange(4)) == 3


def test_representative_of_a_pair_is_its_first_member_whatever_the_rounding() -> None:
    vectors = normalize(np.array([[1.0, 0.1], [1.0, 0.1000001], [0.0, 1.0]], dtype=np.float32))
    assert representative(vectors, np.array([0, 1])) == 0
    assert representative(vectors, np.array([1, 0])) == 1
