from __future__ import annotations

import pytest

from bench.ceiling import machine_gflops, measure, model_cost, time_split
from bench.texts import goal_texts
from common.config import Settings
from common.engines.artifact import Artifact, verify

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def artifact() -> Artifact:
    settings = Settings()
    return verify(settings.model_dirs[settings.model])


def test_the_model_costs_about_21_mflop_a_token(artifact: Artifact) -> None:
    """all-MiniLM-L6-v2: 6 layers of 4 products of 384x384 and 2 of 384x1536 (~10.6 M multiply-adds a token)."""
    cost = model_cost(artifact)
    assert cost.weight_macs == 6 * (4 * 384 * 384 + 2 * 384 * 1536)
    assert cost.flops(1) == 2 * (cost.weight_macs + cost.attention_macs_per_position)


def test_every_ceiling_of_a_run_shares_one_measurement_of_the_machine(artifact: Artifact) -> None:
    short, long = measure(artifact, ["a goal"] * 8), measure(artifact, ["a much longer goal " * 10] * 8)
    assert short.gflops == long.gflops == machine_gflops() and short.gflops["f32"] > 0
    assert short.texts_per_s() > long.texts_per_s()


def test_time_split_covers_the_engines_time_and_counts_the_padding(artifact: Artifact) -> None:
    split = time_split(artifact, goal_texts(64, seed=1))
    assert sum(split.shares.values()) == pytest.approx(1.0)
    assert max(split.shares, key=split.shares.__getitem__) == "MatMul"
    assert 0 <= split.padding <= 0.25  # exact widths, each call padded to at most MAX_PADDING of its tokens
    assert "matrix products" in split.render()
