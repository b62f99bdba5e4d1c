from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from common import clustering, similarity
from common.clustering import Group, community_groups, representative
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


def _reference_groups(vectors: np.ndarray, threshold: float, min_size: int) -> list[Group]:
    """community_detection's rule on the full matrix, for small inputs."""
    near = [np.flatnonzero(row >= threshold - 1e-6) for row in vectors @ vectors.T]
    free = np.ones(len(vectors), dtype=bool)
    groups = []
    for centre in sorted(range(len(near)), key=lambda index: (-len(near[index]), index)):
        members = near[centre][free[near[centre]]]
        if free[centre] and len(near[centre]) >= min_size and len(members) >= min_size:
            free[members] = False
            groups.append(Group(members.tolist(), representative(vectors, members)))
    return sorted(groups, key=lambda group: (-len(group.members), group.members[0]))


@pytest.mark.parametrize(
    ("seed", "threshold", "min_size", "batch"), [(0, 0.8, 2, 64), (1, 0.6, 3, 3), (2, 0.9, 2, 1), (3, -1.0, 2, 64)]
)
def test_community_groups_match_the_full_matrix_rule(
    seed: int, threshold: float, min_size: int, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", 7 * 150)
    monkeypatch.setattr(clustering, "MAX_BATCH", batch)
    vectors = normalize(np.random.default_rng(seed).standard_normal((150, 4)))
    assert community_groups(vectors, threshold, min_size) == _reference_groups(vectors, threshold, min_size)


def test_community_groups_of_ten_thousand_copies_take_linear_memory() -> None:
    vectors = np.tile(normalize(np.ones((1, 16))), (10_000, 1))
    tracemalloc.start()
    try:
        groups = community_groups(vectors, threshold=-1.0, min_size=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [len(group.members) for group in groups] == [10_000]
    assert peak < 4 * similarity.BLOCK_CELLS * 4, f"peak {peak / 1e6:.0f} MB (a full matrix would be 800 MB)"


@pytest.mark.parametrize(("seed", "threshold", "review"), [(0, 0.8, 0.6), (1, 0.7, 0.3), (2, 0.9, 0.9)])
def test_review_band_keeps_the_duplicate_groups_and_adds_only_possible_members(
    seed: int, threshold: float, review: float
) -> None:
    vectors = normalize(np.random.default_rng(seed).standard_normal((120, 4)))
    plain = community_groups(vectors, threshold, min_size=2)
    banded = community_groups(vectors, threshold, min_size=2, review=review)
    cores = [[m for m in g.members if m not in g.possible] for g in banded]
    assert sorted(plain, key=lambda g: g.members) == sorted(
        (Group(c, g.representative) for c, g in zip(cores, banded, strict=True) if c), key=lambda g: g.members
    )
    members = [m for g in banded for m in g.members]
    assert len(members) == len(set(members))
    for group in banded:
        if len(group.possible) < len(group.members):  # a duplicate group: each addition is near its representative
            assert (vectors[group.possible] @ vectors[group.representative] >= review - 1e-6).all()
    assert review < threshold or all(not g.possible for g in banded)


def test_review_band_groups_the_texts_left_out_among_themselves() -> None:
    vectors = normalize(np.vstack([_around([1, 0, 0], 0.01, 2, 1), [[0, 1, 0], [0, 1, 0.6]], [[0, 0, 1]]]))
    groups = community_groups(vectors, threshold=0.95, min_size=2, review=0.8)
    assert groups == [Group([0, 1], 0, []), Group([2, 3], 2, [2, 3])]
