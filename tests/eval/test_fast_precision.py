from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.config import Settings
from common.engines.artifact import verify
from eval.fast_precision import engine, neighbours, quantize


def test_neighbours_are_the_closest_others_first_never_the_text_itself() -> None:
    vectors = np.eye(12, dtype=np.float32)
    vectors[1] = vectors[0] * 0.9 + vectors[1] * 0.1
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = neighbours(vectors)
    assert found.shape == (12, 10) and found[0, 0] == 1 and found[1, 0] == 0
    assert all(index not in row for index, row in enumerate(found))


@pytest.mark.slow
@pytest.mark.parametrize("static", [False, True])
def test_the_int8_graph_keeps_what_it_is_told_to_and_encodes_close_to_exact(tmp_path: Path, static: bool) -> None:
    settings = Settings()
    artifact = verify(settings.model_dirs[settings.model])
    graph = tmp_path / "int8.onnx"
    assert quantize(artifact, graph, per_channel=True, keep_f32="output/dense", static=static) == 12  # 6 layers x 2
    texts = ["Improve family engagement through monthly parent workshops", "Reduce staff turnover"]
    exact, fast = engine(artifact, artifact.model_path).encode(texts), engine(artifact, graph).encode(texts)
    cosines = (exact * fast).sum(axis=1)
    assert (cosines > 0.9).all() and (cosines < 1 - 1e-6).all(), cosines  # close, and not the exact graph
