"""Throughput by request size: the same texts in requests of 32, 128 or 640, each run against the ceiling beside it.

python -m bench.request_size [--goals PATH_TO_goals.csv] [--sizes 32 128 640] [--rounds 2]

The engine sorts one request's texts by length and cuts them into calls that pad little (common.engines.graph):
a request of 32 real goals of mixed length makes a few small calls, 640 of them make fewer, fuller ones. Each
run's percentage is of the matrix throughput measured right before and right after it (one short run each), so
a shared machine's drift between a ceiling and the run compared with it stays out of the figure.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.ceiling import precision_gflops, precision_of, text_cost
from bench.report import throughput
from bench.streams import production_feeds
from bench.texts import goal_texts, real_goals
from common.config import Settings
from common.engines.artifact import Artifact, verify
from common.engines.base import Engine
from common.models import load_engine
from tools.machine import describe

TEXTS = 640
SETS = 3  # distinct texts per round, so no run repeats another's


@dataclass(frozen=True)
class Size:
    texts: int  # per request
    calls: float  # engine calls per request
    per_s: float  # texts/s, median of runs
    percent: float  # of the ceiling measured beside each run, median of runs


def measure(
    engine: Engine,
    sets: Sequence[Sequence[str]],
    sizes: Sequence[int],
    rounds: int,
    flops_per_text: float,
    gflops: Callable[[], float],
    calls: Callable[[int], float],
) -> list[Size]:
    """Each set in requests of each size, taking turns; `gflops()` is measured before and after every run.

    calls(size): the engine calls a request of that size makes.
    """
    per_s: dict[int, list[float]] = {size: [] for size in sizes}
    percent: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for texts in sets:
            for size in sizes:
                before = gflops()
                rate = _texts_per_s(engine, texts, size)
                ceiling = (before + gflops()) / 2 * 1e9 / flops_per_text
                per_s[size].append(rate)
                percent[size].append(100 * rate / ceiling)
    return [Size(size, calls(size), statistics.median(per_s[size]), statistics.median(percent[size])) for size in sizes]


def _texts_per_s(engine: Engine, texts: Sequence[str], size: int) -> float:
    return throughput(engine.encode, size, 1, lambda _: list(texts))


def calls_per_request(artifact: Artifact, texts: Sequence[str], size: int) -> float:
    """The engine calls production makes for a request of `size` of these texts, on average."""
    requests = [list(texts[start : start + size]) for start in range(0, len(texts), size)]
    return sum(len(production_feeds(artifact, request)) for request in requests) / len(requests)


def rows(label: str, found: Sequence[Size]) -> list[str]:
    return [
        f"| {label} | {size.texts} | {size.calls:.1f} | {size.per_s:.0f} | {size.percent:.0f} % |" for size in found
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=Path, help="a CSV with a `goal` column: real goals of mixed length")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128, TEXTS], help="texts per request")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings.from_environ()
    artifact = verify(settings.model_dirs[settings.model])
    engine = load_engine(artifact.folder, settings)
    engine.encode(["warm-up"])
    precision = precision_of(engine.description)
    kinds = {"goal-like texts": [goal_texts(TEXTS, seed=10 + n) for n in range(SETS)]}
    if args.goals:
        kinds["real goals"] = [real_goals(args.goals, TEXTS, seed=50 + n) for n in range(SETS)]
    print(f"# Request size, {time.strftime('%Y-%m-%d %H:%M')} on {describe()}; {engine.description}")
    print(" ".join(["python -m bench.request_size", *sys.argv[1:]]))
    print(f"| texts | texts a request | engine calls | texts/s | % of the {precision} ceiling beside each run |")
    print("|---|---|---|---|---|")
    for label, sets in kinds.items():
        flops, _ = text_cost(artifact, sets[0])
        found = measure(
            engine,
            sets,
            args.sizes,
            args.rounds,
            flops,
            lambda: precision_gflops(precision, trials=1),
            functools.partial(calls_per_request, artifact, sets[0]),
        )
        print("\n".join(rows(label, found)), flush=True)


if __name__ == "__main__":
    main()
