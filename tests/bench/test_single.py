from __future__ import annotations

import dataclasses

import pytest

from bench.single import Breakdown, interleaved, measure, rows


def test_interleaved_takes_turns_and_each_call_sees_every_text_once() -> None:
    seen: list[tuple[str, str]] = []
    medians = interleaved(
        [lambda text: seen.append(("a", text)), lambda text: seen.append(("b", text))], ["x", "y"], [0, 0.001]
    )
    assert seen == [("a", "x 0"), ("b", "x 0"), ("a", "y 1"), ("b", "y 1")]
    assert len(medians) == 2 and all(ms >= 0 for ms in medians)


def test_rows_divide_each_figure_by_the_back_to_back_call() -> None:
    table = rows(Breakdown("engine", 4.0, 4.4, 1.0, 1.2, 6.0), 0.002)
    assert table[2] == "| in-process, back to back | 4.00 | 1.00x |"
    assert table[3] == "| in-process, 2 ms pause before each call | 4.40 | 1.10x |"
    assert table[-1] == "| over HTTP, a new text | 6.00 | 1.50x |"


@pytest.mark.slow
def test_measure_runs_the_production_engine_and_embed_over_http() -> None:
    found = measure(count=5, pause_s=0.001)
    assert found.engine
    assert all(ms > 0 for ms in dataclasses.astuple(found)[1:]), found
