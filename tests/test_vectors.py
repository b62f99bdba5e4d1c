from __future__ import annotations

import numpy as np
import pytest

from common.errors import ApiError
from common.vectors import unit_rows


def test_unit_rows_normalizes_client_vectors() -> None:
    matrix = unit_rows([[3.0, 4.0], [1e-300, 0.0], [1e300, 1e300]], 2, "embeddings")
    assert matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)


@pytest.mark.parametrize(
    ("rows", "message"),
    [([[1.0, 2.0, 3.0]], r"embeddings\[0\] has 3 values, expected 2"), ([[1.0, 1.0], [0.0, 0.0]], "all zeros")],
)
def test_unit_rows_rejects_bad_vectors(rows: list[list[float]], message: str) -> None:
    with pytest.raises(ApiError, match=message) as raised:
        unit_rows(rows, 2, "embeddings")
    assert (raised.value.status, raised.value.error_type) == (422, "invalid_vector")
