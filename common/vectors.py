"""Unit vectors (pure numpy): the matrix type every layer shares, normalizing, and checking client vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]


class InvalidVectorError(ValueError):
    """A client's vector has the wrong dimension or no direction."""


def normalize(vectors: NDArray[np.floating]) -> Matrix:
    """Rows scaled to unit length, as float32; rows of zero length stay zero."""
    # Dividing by the largest entry first keeps the squares in the norm from overflowing or underflowing.
    peaks = np.abs(vectors).max(axis=1, keepdims=True)
    scaled = vectors / np.where(peaks == 0, 1, peaks)
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    return (scaled / np.where(norms == 0, 1, norms)).astype(np.float32)


def unit_rows(rows: Sequence[Sequence[float]], dimensions: int, field: str) -> Matrix:
    """Client vectors as a unit-length float32 matrix; InvalidVectorError for a wrong dimension or a zero vector."""
    for index, row in enumerate(rows):
        if len(row) != dimensions:
            raise InvalidVectorError(f"{field}[{index}] has {len(row)} values, expected {dimensions}")
    # float64 until normalized: values beyond float32's range must not turn into inf or 0.
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), dimensions)
    zero = np.flatnonzero(~np.any(matrix, axis=1))
    if len(zero):
        raise InvalidVectorError(f"{field}[{zero[0]}] is all zeros and has no direction")
    return normalize(matrix)
