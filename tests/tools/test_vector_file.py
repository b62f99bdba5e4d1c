from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.vector_file import VectorFile, VectorFileError, load, read_record

TEXTS = ["a", "b", "c"]


def test_vector_file_reopens_with_the_rows_written_so_far(tmp_path: Path) -> None:
    path = tmp_path / "v.npy"
    stored = VectorFile.open(path, "m", TEXTS, 2)
    stored.array[:2] = [[1, 0], [0, 1]]
    stored.written(2)
    again = VectorFile.open(path, "m", TEXTS, 2)
    assert (again.record.done, again.complete) == (2, False)
    assert again.array[:2].tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize(
    ("model", "texts", "dimensions"), [("other", TEXTS, 2), ("m", ["a", "b", "d"], 2), ("m", TEXTS, 3)]
)
def test_vector_file_refuses_other_texts_or_models(
    tmp_path: Path, model: str, texts: list[str], dimensions: int
) -> None:
    VectorFile.open(tmp_path / "v.npy", "m", TEXTS, 2)
    with pytest.raises(VectorFileError, match="other texts or another model"):
        VectorFile.open(tmp_path / "v.npy", model, texts, dimensions)


def test_vector_file_loads_only_when_complete(tmp_path: Path) -> None:
    stored = VectorFile.open(tmp_path / "v.npy", "m", TEXTS, 2)
    with pytest.raises(VectorFileError, match="only 0 of 3 rows"):
        load(tmp_path / "v.npy")
    stored.array[:] = np.eye(3, 2)
    stored.written(3)
    assert load(tmp_path / "v.npy").shape == (3, 2) and read_record(tmp_path / "v.npy").done == 3


def test_vector_file_without_its_record_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(VectorFileError, match="no readable record"):
        VectorFile.open(tmp_path / "v.npy", "m", TEXTS, 2)
