from __future__ import annotations

import numpy as np
import pytest

from common.serving.errors import from_domain
from common.vectors import InvalidVectorError, unit_rows


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
