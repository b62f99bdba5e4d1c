"""Texts the benchmarks send: distinct goal-like texts, so no cache helps."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from tools.corpus import goal


def goal_texts(count: int, seed: int) -> list[str]:
    """Distinct goal-like texts of 8-30 words."""
    rng = random.Random(seed)
    return [f"{goal(rng)} (plan {seed}-{index})" for index in range(count)]


def real_goals(path: Path, count: int = 0, seed: int = 0) -> list[str]:
    """The `goal` column of a CSV (e.g. shared/data/ttadp/goals.csv), made distinct by a short tag each.

    count: cycle through the goals to this many texts (0: each goal once).
    """
    with path.open(newline="", encoding="utf-8") as file:
        goals = [row["goal"].strip() for row in csv.DictReader(file) if row.get("goal", "").strip()]
    if not goals:
        raise ValueError(f"{path}: no `goal` column with text")
    return [f"{goals[index % len(goals)]} ({seed}-{index})" for index in range(count or len(goals))]
