from __future__ import annotations

import numpy as np
import pytest

from common.serving.errors import from_domain
from common.vectors import InvalidVectorError, base64_rows, to_base64, unit_rows


def test_unit_rows_normalizes_client_vectors() -> None:
    matrix = unit_rows([[3.0, 4.0], [1e-300, 0.0], [1e300, 1e300]], 2, "embeddings")
    assert matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)


@pytest.mark.parametrize(
    ("rows", "message"),
    [([[1.0, 2.0, 3.0]], r"embeddings\[0\] has 3 values, expected 2"), ([[1.0, 1.0], [0.0, 0.0]], "all zeros")],
)
def test_unit_rows_rejects_bad_vectors(rows: list[list[float]], message: str) -> None:
    with pytest.raises(InvalidVectorError, match=message) as raised:
        unit_rows(rows, 2, "embeddings")
    answer = from_domain(raised.value)
    assert answer is not None and (answer.status, answer.error_type) == (422, "invalid_vector"), answer


def test_base64_rows_decode_to_the_same_unit_vectors_as_json_lists() -> None:
    rows = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    packed = to_base64(rows)
    assert base64_rows(packed, 4) == 5
    # Normalized in float32 (base64) or float64 (JSON numbers): the same to a float32 rounding.
    np.testing.assert_allclose(unit_rows(packed, 4, "embeddings"), unit_rows(rows.tolist(), 4, "embeddings"), rtol=1e-6)
    per_row = [to_base64(row[None]) for row in rows]
    np.testing.assert_allclose(unit_rows(per_row, 4, "embeddings"), unit_rows(packed, 4, "embeddings"), rtol=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "embeddings is not valid base64"),
        (to_base64(np.ones((1, 3), np.float32)), "holds 12 bytes, not rows of 4 float32"),
        (to_base64(np.array([[1, np.inf, 0, 0]], np.float32)), "not a finite number"),
        (to_base64(np.zeros((2, 4), np.float32)), r"embeddings\[0\] is all zeros"),
    ],
)
def test_base64_vectors_that_are_not_whole_finite_rows_are_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidVectorError, match=message):
        unit_rows(value, 4, "embeddings")


def test_a_base64_string_in_place_of_one_vector_must_hold_exactly_one() -> None:
    with pytest.raises(InvalidVectorError, match=r"candidates\[0\] holds 2 vectors, expected one"):
        unit_rows([to_base64(np.ones((2, 4), np.float32))], 4, "candidates")
