from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bench.ceiling import text_cost
from bench.request_size import calls_per_request, measure, rows
from bench.texts import goal_texts
from common.config import Settings
from common.engines.artifact import verify
from common.models import load_engine
from common.vectors import Matrix


class Recorder:
    dimensions = 2
    description = "recorder f32"

    def __init__(self) -> None:
        self.requests: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.requests.append(list(texts))
        return np.ones((len(texts), 2), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> int:
        return len(texts)


def test_each_set_goes_in_requests_of_each_size_with_the_ceiling_measured_around_every_run() -> None:
    engine, rates = Recorder(), iter(range(1, 100))
    found = measure(engine, [list("abcdef")], [2, 6], 1, 1e9, lambda: float(next(rates)), lambda size: size / 2)
    assert engine.requests == [["a", "b"], ["c", "d"], ["e", "f"], list("abcdef")]
    assert [(size.texts, size.calls) for size in found] == [(2, 1.0), (6, 3.0)]
    # Run 1 sits between rates 1 and 2, run 2 between 3 and 4: each is a share of the mean of its own pair.
    assert found[0].percent == pytest.approx(100 * found[0].per_s / 1.5)
    assert found[1].percent == pytest.approx(100 * found[1].per_s / 3.5)


def test_rows_give_size_calls_rate_and_percent() -> None:
    engine = Recorder()
    found = measure(engine, [["a"] * 4], [4], 2, 1e9, lambda: 1e6, lambda size: 1.5)
    (row,) = rows("goal-like texts", found)
    assert row.startswith("| goal-like texts | 4 | 1.5 | ") and row.endswith(" % |")


@pytest.mark.slow
def test_a_larger_request_of_mixed_lengths_makes_fewer_calls_per_text_on_the_real_model() -> None:
    settings = Settings()
    artifact = verify(settings.model_dirs[settings.model])
    texts = [text * (1 + index % 4) for index, text in enumerate(goal_texts(64, seed=2))]
    assert calls_per_request(artifact, texts, 64) / 64 < calls_per_request(artifact, texts, 8) / 8
    engine = load_engine(artifact.folder, settings)
    flops, _ = text_cost(artifact, texts)
    found = measure(engine, [texts], [8, 64], 1, flops, lambda: 100.0, lambda size: 1.0)
    assert [size.texts for size in found] == [8, 64] and all(size.per_s > 0 for size in found)
