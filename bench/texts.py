"""Texts the benchmarks send: distinct goal-like texts, so no cache helps."""

from __future__ import annotations

import random

from tools.corpus import goal


def goal_texts(count: int, seed: int) -> list[str]:
    """Distinct goal-like texts of 8-30 words."""
    rng = random.Random(seed)
    return [f"{goal(rng)} (plan {seed}-{index})" for index in range(count)]
