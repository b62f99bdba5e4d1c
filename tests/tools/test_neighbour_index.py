from __future__ import annotations

import numpy as np
import pytest

from common import clustering
from common.clustering import community_groups
from common.vectors import normalize
from tools import neighbour_index
from tools.neighbour_index import Indexed, index_for, recall


def _vectors(count: int, seed: int, dims: int = 4) -> np.ndarray:
    return normalize(np.random.default_rng(seed).standard_normal((count, dims))).astype(np.float32)


def _hood(
    vectors: np.ndarray, approximate: bool = False, weights: np.ndarray | None = None, probes: int = 16
) -> Indexed:
    weights = np.ones(len(vectors), dtype=np.int64) if weights is None else weights
    return Indexed(vectors, weights, index_for(vectors, approximate, probes))


@pytest.mark.parametrize(("threshold", "review"), [(0.8, None), (0.7, 0.4), (0.9, 0.6), (-1.0, None)])
def test_indexed_groups_equal_the_cluster_functions(
    threshold: float, review: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neighbour_index, "CHUNK", 37)
    monkeypatch.setattr(clustering, "MAX_BATCH", 5)
    vectors = _vectors(150, 1)
    found = community_groups(_hood(vectors), threshold, 2, review)
    assert found == community_groups(vectors, threshold, 2, review)


def test_weighted_groups_equal_the_groups_of_the_copies() -> None:
    distinct = _vectors(40, 2, dims=3)
    weights = np.random.default_rng(3).integers(1, 4, size=40).astype(np.int64)
    node_of = np.repeat(np.arange(40), weights)
    expected = [
        (sorted({int(node_of[m]) for m in g.members}), int(node_of[g.representative]), len(g.members))
        for g in community_groups(np.repeat(distinct, weights, axis=0), 0.8, 3)
    ]
    found = community_groups(_hood(distinct, weights=weights), 0.8, 3)
    assert sorted(expected) == sorted((g.members, g.representative, int(weights[g.members].sum())) for g in found)


@pytest.mark.parametrize("exact_near", [True, False])
def test_approximate_groups_keep_the_rule_and_nearly_match_exact(
    exact_near: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its 8-bit scores may order two centres differently, never put a text more than the threshold from its centre."""
    monkeypatch.setattr(neighbour_index, "EXACT_NEAR_UP_TO", 10_000 if exact_near else 0)
    vectors = _vectors(2_000, 4, dims=384)
    found = community_groups(_hood(vectors, approximate=True, probes=10_000), 0.16, 2)
    for group in found:
        within = vectors[group.members] @ vectors[group.members].T >= 0.16 - 1e-6
        assert within.all(axis=1).any(), f"no member of {group.members} is within the threshold of all the others"
    members = [m for group in found for m in group.members]
    assert len(members) == len(set(members))
    exact = community_groups(vectors, 0.16, 2)
    assert len({tuple(g.members) for g in found} & {tuple(g.members) for g in exact}) > 0.8 * len(exact)


def test_recall_of_an_approximate_index_says_what_it_misses() -> None:
    vectors = _vectors(4_000, 5, dims=8)
    share, pairs = recall(_hood(vectors, approximate=True, probes=1), 0.6, sample=200)
    assert pairs > 0 and 0 < share < 1


def test_approximate_degrees_count_only_among() -> None:
    vectors = _vectors(2_000, 6, dims=384)  # random 384-d vectors: ~4 neighbours each at 0.15
    exact, approximate = _hood(vectors), _hood(vectors, approximate=True, probes=10_000)
    among = np.arange(2_000) % 3 == 0
    for mask in (None, among):
        found, expected = approximate.degrees(0.15, mask), exact.degrees(0.15, mask)
        assert np.mean(found == expected) > 0.8 and np.abs(found - expected).max() <= 3, "8-bit scores move a few pairs"
    assert (approximate.degrees(0.15, among)[~among] == 0).all()
