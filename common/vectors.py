"""Unit vectors (pure numpy): the matrix type every layer shares, normalizing, and checking client vectors."""

from __future__ import annotations

import base64
import binascii
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


# A vector, or a list of them, as the client sends it: JSON numbers, or base64 of little-endian float32.
Vectors = Sequence[Sequence[float] | str] | str


def to_base64(vectors: Matrix) -> str:
    """Rows of float32, little-endian, one after another, as one base64 string."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode()


def base64_rows(text: str, dimensions: int) -> int:
    """How many rows of `dimensions` float32 a base64 string holds (before decoding it)."""
    return (len(text.rstrip("=")) * 3 // 4) // (4 * dimensions)


def from_base64(text: str, dimensions: int, field: str) -> Matrix:
    """Decoded straight into a float32 matrix (no Python floats); InvalidVectorError if it is not whole rows."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidVectorError(f"{field} is not valid base64") from None
    if not data or len(data) % (4 * dimensions):
        raise InvalidVectorError(
            f"{field} holds {len(data)} bytes, not rows of {dimensions} float32 ({4 * dimensions} bytes)"
        )
    matrix = np.frombuffer(data, dtype="<f4").reshape(-1, dimensions)
    if not np.isfinite(matrix).all():
        raise InvalidVectorError(f"{field} holds a value that is not a finite number")
    return matrix


def unit_rows(rows: Vectors, dimensions: int, field: str) -> Matrix:
    """Client vectors as a unit-length float32 matrix; InvalidVectorError for a wrong dimension or a zero vector.

    rows: a list of vectors (each JSON numbers or one base64 vector), or one base64 string of whole rows.
    """
    if isinstance(rows, str):
        return _unit_in_place(from_base64(rows, dimensions, field).copy(), field)
    parts: list[Sequence[float] | Matrix] = []
    for index, row in enumerate(rows):
        if isinstance(row, str):
            decoded = from_base64(row, dimensions, f"{field}[{index}]")
            if len(decoded) != 1:
                raise InvalidVectorError(f"{field}[{index}] holds {len(decoded)} vectors, expected one")
            parts.append(decoded[0])
        elif len(row) != dimensions:
            raise InvalidVectorError(f"{field}[{index}] has {len(row)} values, expected {dimensions}")
        else:
            parts.append(row)
    if all(isinstance(row, str) for row in rows):  # one base64 vector each: float32 already
        return _unit_in_place(np.array(parts, dtype=np.float32).reshape(len(parts), dimensions), field)
    # float64 until normalized: values beyond float32's range must not turn into inf or 0.
    return _unit(np.asarray(parts, dtype=np.float64).reshape(len(parts), dimensions), field)


def _unit_in_place(matrix: Matrix, field: str) -> Matrix:
    """float32 rows scaled to unit length in place: one copy of the matrix at most, not normalize's four.

    The largest base64 request (5,000 vectors into compare, two at once) peaked within 2 MB of its quota
    through normalize's temporaries.
    """
    peaks = np.maximum(matrix.max(axis=1), -matrix.min(axis=1))[:, None]
    zero = np.flatnonzero(peaks[:, 0] == 0)
    if len(zero):
        raise InvalidVectorError(f"{field}[{zero[0]}] is all zeros and has no direction")
    matrix /= peaks  # as normalize does: squares of scaled values cannot overflow
    matrix /= np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
    return matrix


def _unit(matrix: NDArray[np.floating], field: str) -> Matrix:
    zero = np.flatnonzero(~np.any(matrix, axis=1))
    if len(zero):
        raise InvalidVectorError(f"{field}[{zero[0]}] is all zeros and has no direction")
    return normalize(matrix)
