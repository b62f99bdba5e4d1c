"""Cosine similarity of unit vectors: ranking, and all pairs above a threshold, in blocks.

Pure numpy. Every vector given here is unit length, so a dot product is the cosine.
All-pairs work is O(n² · d) time but O(n) memory: blocks of at most BLOCK_CELLS similarities at a time,
and nothing kept per pair before the pair limit has been checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from common import cutoff
from common.vectors import Matrix

# Similarities computed at once: 2**21 float32 = 8 MB, whatever n is (n=10,000 → 209 rows a block).
BLOCK_CELLS = 1 << 21
# Float32 rounding: a text compared with itself may score 0.9999999; that still reaches a threshold of 1.
TOLERANCE = 1e-6
Indices = NDArray[np.intp]
Mask = NDArray[np.bool_]
Scores = NDArray[np.float32]


class TooManyPairsError(ValueError):
    """More pairs cross the threshold than the caller allows."""

    def __init__(self, limit: int, threshold: float) -> None:
        super().__init__(f"more than {limit} pairs reach {threshold}; raise the threshold")


class ReviewAboveThresholdError(ValueError):
    """A review band whose lower end is above the duplicate threshold."""

    def __init__(self, review: float, threshold: float) -> None:
        super().__init__(f"review_threshold {review} is above the threshold {threshold}: it is the band's lower end")


def band(threshold: float, review: float | None) -> float:
    """The lowest cosine a caller wants to see: the review threshold if there is one, else the threshold."""
    if review is None:
        return threshold
    if review > threshold:
        raise ReviewAboveThresholdError(review, threshold)
    return review


def cosine(a: Matrix, b: Matrix) -> float:
    return float(np.clip(a @ b, -1.0, 1.0))


def rank(query: Matrix, candidates: Matrix, threshold: float | None, top_k: int | None) -> tuple[Indices, Scores]:
    """Candidate indices and scores, highest first (ties by index), at or above threshold, at most top_k."""
    scores = np.clip(candidates @ query, -1.0, 1.0)
    order = np.lexsort((np.arange(len(scores)), -scores))
    if threshold is not None:
        order = order[scores[order] >= threshold - TOLERANCE]
    if top_k is not None:
        order = order[:top_k]
    return order, scores[order]


def row_blocks(vectors: Matrix) -> Iterator[tuple[int, Matrix]]:
    """(first row, similarities of a block of rows against all rows), block by block."""
    rows = max(1, BLOCK_CELLS // max(1, len(vectors)))
    for start in range(0, len(vectors), rows):
        cutoff.check()
        yield start, vectors[start : start + rows] @ vectors.T


def degrees(vectors: Matrix, threshold: float, among: Mask | None = None) -> NDArray[np.int64]:
    """For each row, how many rows (itself included) have cosine ≥ threshold; counted block by block.

    Each pair is scored once (the upper triangle) and counted for both its rows: half the products of
    scoring every row against every row, which was the whole cost of clustering 20,000 vectors.
    among: count only these rows, and only for them (the others get 0).
    """
    level = threshold - TOLERANCE
    counts: NDArray[np.int64] = (np.einsum("ij,ij->i", vectors, vectors) >= level).astype(np.int64)
    for start, block in _upper_blocks(vectors):
        hits = block >= level
        if among is not None:
            hits &= among[start:]
            hits &= among[start : start + len(block), None]
        counts[start : start + len(block)] += np.count_nonzero(hits, axis=1)
        counts[start:] += np.count_nonzero(hits, axis=0)
    if among is not None:
        counts[~among] = 0
    return counts


def best_matches(vectors: Matrix, rows: Indices, targets: Indices) -> tuple[Indices, Scores]:
    """For each of rows, the position in targets of its most similar target (ties: the first) and that cosine."""
    chosen = np.full(len(rows), -1, dtype=np.intp)
    scores = np.full(len(rows), -np.inf, dtype=np.float32)
    if not len(targets):
        return chosen, scores
    wanted = vectors[targets]
    step = max(1, BLOCK_CELLS // len(targets))
    for start in range(0, len(rows), step):
        cutoff.check()
        block = vectors[rows[start : start + step]] @ wanted.T
        best = block.argmax(axis=1)
        chosen[start : start + len(block)] = best
        scores[start : start + len(block)] = block[np.arange(len(block)), best]
    return chosen, scores


def neighbours_of(vectors: Matrix, rows: Indices, threshold: float) -> list[Indices]:
    """For each of rows, the sorted indices of all rows (itself included) with cosine ≥ threshold to it."""
    cutoff.check()
    return [np.flatnonzero(scores >= threshold - TOLERANCE) for scores in vectors[rows] @ vectors.T]


def pairs_above(vectors: Matrix, threshold: float, max_pairs: int) -> tuple[Indices, Indices, Scores]:
    """Every pair i < j with cosine ≥ threshold, highest first (ties by i, then j)."""
    found: list[tuple[Indices, Indices, Scores]] = []
    total = 0
    for start, block in _upper_blocks(vectors):
        hits = block >= threshold - TOLERANCE
        # Counted before any index is built: a limit of 100,000 pairs never costs more than a block.
        total += int(np.count_nonzero(hits))
        if total > max_pairs:
            raise TooManyPairsError(max_pairs, threshold)
        rows, cols = np.nonzero(hits)
        found.append((rows + start, cols + start, np.clip(block[rows, cols], -1.0, 1.0)))
    i, j, scores = (np.concatenate(parts) for parts in zip(*found, strict=True)) if found else _no_pairs()
    order = np.lexsort((j, i, -scores))
    return i[order], j[order], scores[order]


def _upper_blocks(vectors: Matrix) -> Iterator[tuple[int, Matrix]]:
    """Blocks of rows against the columns from the block's first row on, with j ≤ i set to -inf."""
    rows = max(1, BLOCK_CELLS // max(1, len(vectors)))
    for start in range(0, len(vectors), rows):
        cutoff.check()
        block = vectors[start : start + rows] @ vectors[start:].T
        np.putmask(block, np.arange(len(block))[:, None] >= np.arange(block.shape[1]), -np.inf)
        yield start, block


def _no_pairs() -> tuple[Indices, Indices, Scores]:
    empty = np.empty(0, dtype=np.intp)
    return empty, empty, np.empty(0, dtype=np.float32)


def neighbours(vectors: Matrix, threshold: float) -> list[Indices]:
    """For each row, the sorted indices of all rows (itself included) with cosine ≥ threshold (small sets only)."""
    result: list[Indices] = []
    for _, block in row_blocks(vectors):
        result.extend(np.flatnonzero(row >= threshold - TOLERANCE) for row in block)
    return result
