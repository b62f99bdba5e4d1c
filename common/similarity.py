"""Cosine similarity of unit vectors: ranking, and all pairs above a threshold, in blocks.

Pure numpy. Every vector given here is unit length, so a dot product is the cosine.
All-pairs work is O(n² · d) time but O(BLOCK · n) memory: the n-by-n matrix is never built whole.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from common.vectors import Matrix

BLOCK = 1024
# Float32 rounding: a text compared with itself may score 0.9999999; that still reaches a threshold of 1.
TOLERANCE = 1e-6
Indices = NDArray[np.intp]
Scores = NDArray[np.float32]


class TooManyPairsError(ValueError):
    """More pairs cross the threshold than the caller allows."""

    def __init__(self, limit: int, threshold: float) -> None:
        super().__init__(f"more than {limit} pairs reach {threshold}; raise the threshold")


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


def _row_blocks(vectors: Matrix) -> Iterator[tuple[int, Matrix]]:
    """(first row, similarities of BLOCK rows against all rows), block by block."""
    for start in range(0, len(vectors), BLOCK):
        yield start, vectors[start : start + BLOCK] @ vectors.T


def pairs_above(vectors: Matrix, threshold: float, max_pairs: int) -> tuple[Indices, Indices, Scores]:
    """Every pair i < j with cosine ≥ threshold, highest first (ties by i, then j)."""
    found: list[tuple[Indices, Indices, Scores]] = []
    total = 0
    for start, block in _row_blocks(vectors):
        rows, cols = np.nonzero(block >= threshold - TOLERANCE)
        rows += start
        upper = cols > rows
        rows, cols = rows[upper], cols[upper]
        total += len(rows)
        if total > max_pairs:
            raise TooManyPairsError(max_pairs, threshold)
        found.append((rows, cols, np.clip(block[rows - start, cols], -1.0, 1.0)))
    i, j, scores = (np.concatenate(parts) for parts in zip(*found, strict=True)) if found else _no_pairs()
    order = np.lexsort((j, i, -scores))
    return i[order], j[order], scores[order]


def _no_pairs() -> tuple[Indices, Indices, Scores]:
    empty = np.empty(0, dtype=np.intp)
    return empty, empty, np.empty(0, dtype=np.float32)


def neighbours(vectors: Matrix, threshold: float) -> list[Indices]:
    """For each row, the sorted indices of all rows (itself included) with cosine ≥ threshold."""
    result: list[Indices] = []
    for _, block in _row_blocks(vectors):
        result.extend(np.flatnonzero(row >= threshold - TOLERANCE) for row in block)
    return result
