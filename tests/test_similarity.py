from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from common import similarity
from common.similarity import (
    TooManyPairsError,
    best_matches,
    cosine,
    degrees,
    neighbours,
    neighbours_of,
    pairs_above,
    rank,
)
from common.vectors import normalize


def _unit(rows: int, seed: int = 0, dims: int = 16) -> np.ndarray:
    return normalize(np.random.default_rng(seed).standard_normal((rows, dims)))


def test_normalize_makes_rows_unit_length() -> None:
    vectors = normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert vectors.tolist() == [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]


def test_cosine_of_a_vector_with_itself_is_one() -> None:
    vector = _unit(1)[0]
    assert cosine(vector, vector) == pytest.approx(1.0, abs=1e-6)


def test_rank_orders_highest_first_and_breaks_ties_by_index() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    candidates = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    indices, scores = rank(query, candidates, threshold=None, top_k=None)
    assert indices.tolist() == [1, 3, 2, 0]
    assert scores.tolist() == pytest.approx([1.0, 1.0, 0.6, 0.0])


def test_rank_applies_threshold_then_top_k() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    candidates = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8], [0.8, 0.6]], dtype=np.float32)
    assert rank(query, candidates, threshold=0.5, top_k=None)[0].tolist() == [1, 3, 2]
    assert rank(query, candidates, threshold=0.5, top_k=2)[0].tolist() == [1, 3]


@pytest.mark.parametrize("block", [7, 1024])
def test_pairs_above_matches_brute_force(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", block * 50)
    vectors = _unit(50, dims=4)
    full = vectors @ vectors.T
    expected = sorted((-full[i, j], i, j) for i in range(50) for j in range(i + 1, 50) if full[i, j] >= 0.5)
    i, j, scores = pairs_above(vectors, 0.5, max_pairs=10_000)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(a, b) for _, a, b in expected]
    assert np.allclose(scores, [-s for s, _, _ in expected])


def test_pairs_above_counts_identical_vectors_at_threshold_one() -> None:
    vectors = normalize(np.array([[0.1, 0.2, 0.3]] * 3))
    i, j, _ = pairs_above(vectors, 1.0, max_pairs=10)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2)]


def test_pairs_above_stops_at_max_pairs() -> None:
    with pytest.raises(TooManyPairsError):
        pairs_above(_unit(30), -1.0, max_pairs=100)


def test_pairs_above_with_no_pairs_is_empty() -> None:
    i, j, scores = pairs_above(np.eye(3, dtype=np.float32), 0.5, max_pairs=10)
    assert (len(i), len(j), len(scores)) == (0, 0, 0)


def test_neighbours_include_self_and_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", 8 * 30)
    vectors = _unit(30, dims=4)
    full = vectors @ vectors.T
    found = neighbours(vectors, 0.6)
    assert [row.tolist() for row in found] == [np.flatnonzero(full[i] >= 0.6 - 1e-6).tolist() for i in range(30)]
    assert all(i in row for i, row in enumerate(found))


def test_degrees_and_neighbours_of_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", 5 * 40)
    vectors = _unit(40, dims=3)
    full = vectors @ vectors.T >= 0.7 - 1e-6
    assert degrees(vectors, 0.7).tolist() == full.sum(axis=1).tolist()
    found = neighbours_of(vectors, np.array([3, 0, 39]), 0.7)
    assert [row.tolist() for row in found] == [np.flatnonzero(full[i]).tolist() for i in (3, 0, 39)]


def test_pairs_above_refuses_before_building_more_than_a_block() -> None:
    vectors = np.tile(_unit(1, dims=16), (5_000, 1))
    tracemalloc.start()
    try:
        with pytest.raises(TooManyPairsError):
            pairs_above(vectors, -1.0, max_pairs=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * similarity.BLOCK_CELLS * 4, f"peak {peak / 1e6:.0f} MB for 5,000 identical vectors"


def test_degrees_among_count_only_those_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", 5 * 40)
    vectors = _unit(40, dims=3)
    among = np.arange(40) % 3 == 0
    full = (vectors @ vectors.T >= 0.5 - 1e-6) & among & among[:, None]
    assert degrees(vectors, 0.5, among).tolist() == full.sum(axis=1).tolist()


def test_best_matches_picks_each_rows_most_similar_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(similarity, "BLOCK_CELLS", 7)
    vectors = _unit(30, dims=4)
    rows, targets = np.arange(10, 30), np.arange(10)
    chosen, scores = best_matches(vectors, rows, targets)
    full = vectors[rows] @ vectors[targets].T
    assert chosen.tolist() == full.argmax(axis=1).tolist()
    assert np.allclose(scores, full.max(axis=1))
    assert best_matches(vectors, rows, targets[:0])[0].tolist() == [-1] * 20
