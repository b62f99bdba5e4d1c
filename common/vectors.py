"""Vectors sent in by clients: checked against the model's dimension and made unit length."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from common.engine import Matrix
from common.errors import ApiError
from common.similarity import normalize


def unit_rows(rows: Sequence[Sequence[float]], dimensions: int, field: str) -> Matrix:
    """Client vectors as a unit-length float32 matrix; 422 for a wrong dimension or a zero vector."""
    for index, row in enumerate(rows):
        if len(row) != dimensions:
            raise ApiError(422, "invalid_vector", f"{field}[{index}] has {len(row)} values, expected {dimensions}")
    # float64 until normalized: values beyond float32's range must not turn into inf or 0.
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), dimensions)
    zero = np.flatnonzero(~np.any(matrix, axis=1))
    if len(zero):
        raise ApiError(422, "invalid_vector", f"{field}[{zero[0]}] is all zeros and has no direction")
    return normalize(matrix)
