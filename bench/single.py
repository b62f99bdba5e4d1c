"""Where one text's time goes over HTTP: the engine back to back and with a pause, /healthz, a cached and a new text.

python -m bench.single [--count 300] [--pause-ms 2]
The in-process figures come from the production engine (Settings from the environment); the HTTP ones from embed
started with its production command (bench.launch). Each pair is measured interleaved, call by call, so the
machine's noise falls on both alike. The report's "one text over HTTP / in-process" ratio divides the last row
by the first: the rows between say what the difference is made of.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.client import Client
from bench.launch import KEY, instance
from bench.texts import goal_texts
from common.config import Settings
from common.models import load_engine
from tools.machine import describe

Call = Callable[[str], object]


@dataclass(frozen=True)
class Breakdown:
    engine: str
    back_to_back_ms: float  # the engine alone, one call right after the other (the report's in-process figure)
    paused_ms: float  # the engine alone, `pause` before each call, as a client's round trips leave it
    healthz_ms: float  # HTTP with no work: waitress, Flask, functions-framework, the pipeline's checks
    cached_ms: float  # one text the encoder has cached: all of a request but the engine
    new_ms: float  # one new text over HTTP (the report's HTTP figure)


def interleaved(calls: Sequence[Call], texts: Sequence[str], pause_s: Sequence[float]) -> list[float]:
    """Median ms of each call over `texts`, taking turns text by text, each after its own pause."""
    samples: list[list[float]] = [[] for _ in calls]
    for index, text in enumerate(texts):
        for call, pause, found in zip(calls, pause_s, samples, strict=True):
            time.sleep(pause)
            began = time.perf_counter()
            call(f"{text} {index}")
            found.append((time.perf_counter() - began) * 1000)
    return [statistics.median(found) for found in samples]


def measure(count: int, pause_s: float) -> Breakdown:
    settings = Settings.from_environ()
    engine = load_engine(settings.model_dirs[settings.model], settings)
    texts = goal_texts(count, seed=5)
    engine.encode(["warm-up"])
    back_to_back, paused = interleaved(
        [lambda text: engine.encode([text]), lambda text: engine.encode([text])], texts, [0, pause_s]
    )
    with instance("embed") as target, Client(target.port) as client:

        def post(text: str) -> None:
            answer = client.post({"texts": [text]}, KEY)
            if answer.status != 200:
                raise RuntimeError(f"embed answered {answer.kind}")

        cached = "Improve family engagement through monthly parent workshops"
        post(cached)
        healthz, cached_ms, new = interleaved(
            [lambda _: client.request("GET", "/healthz"), lambda _: post(cached), post], texts, [0, 0, 0]
        )
    return Breakdown(engine.description, back_to_back, paused, healthz, cached_ms, new)


def rows(found: Breakdown, pause_s: float) -> list[str]:
    pause = f"{pause_s * 1000:g} ms"
    return [
        "| one text | p50 ms | vs back to back |",
        "|---|---|---|",
        *(
            f"| {label} | {ms:.2f} | {ms / found.back_to_back_ms:.2f}x |"
            for label, ms in [
                ("in-process, back to back", found.back_to_back_ms),
                (f"in-process, {pause} pause before each call", found.paused_ms),
                ("over HTTP, GET /healthz", found.healthz_ms),
                ("over HTTP, a cached text", found.cached_ms),
                ("over HTTP, a new text", found.new_ms),
            ]
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="texts per row")
    parser.add_argument("--pause-ms", type=float, default=2.0, help="before each paused in-process call")
    args = parser.parse_args()
    pause_s = args.pause_ms / 1000
    found = measure(args.count, pause_s)
    print(f"# One text, {time.strftime('%Y-%m-%d %H:%M')} on {describe()}; {found.engine}")
    print(" ".join(["python -m bench.single", *sys.argv[1:]]))
    print("\n".join(rows(found, pause_s)))


if __name__ == "__main__":
    main()
