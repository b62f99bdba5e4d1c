"""Bounded load test of one local function: req/s, latency percentiles and status counts per concurrency.

python -m bench.load [--function embed] [--concurrency 1 2 4 8 16] [--seconds 8] [--batch 8] [--env NAME=VALUE ...]
Starts the function itself on loopback; each client keeps one connection, sends distinct goal texts and
waits Retry-After seconds after a 429, as the Node client does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client
from bench.launch import KEY, instance
from bench.texts import goal_texts
from common.config import PROJECT_ROOT
from tools.machine import describe


def _body(function: str, texts: list[str]) -> bytes:
    bodies = {
        "embed": {"texts": texts},
        "compare": {"query": texts[0], "candidates": texts[1:]},
        "cluster": {"texts": texts},
    }
    return json.dumps(bodies[function]).encode()


def _client(port: int, function: str, batch: int, seed: int, deadline: float) -> list[tuple[int, float]]:
    """(status, seconds) of each request until the deadline; status 0 for a connection error."""
    results: list[tuple[int, float]] = []
    with Client(port, timeout=60) as client:
        for round_ in range(1_000_000):
            if time.monotonic() >= deadline:
                break
            answer = client.post(_body(function, goal_texts(batch, seed=seed * 1_000_000 + round_)), KEY)
            results.append((answer.status, answer.seconds))
            # Like the Node client: honour Retry-After instead of hammering an overloaded instance.
            wait = float(answer.headers.get("Retry-After") or 0)
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
    return results


@dataclass(frozen=True)
class Level:
    """One concurrency level: every client's requests, counted by status, and the successes' latency."""

    clients: int
    requests_per_s: float
    ok_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: dict[int, int]


def run_level(port: int, function: str, batch: int, clients: int, seconds: float) -> Level:
    deadline = time.monotonic() + seconds
    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(_client, port, function, batch, seed, deadline) for seed in range(clients)]
        results = [item for future in futures for item in future.result()]
    elapsed = time.perf_counter() - began
    ok = sorted(seconds for status, seconds in results if status == 200)
    cuts = statistics.quantiles(ok, n=100) if len(ok) >= 2 else [float("nan")] * 99
    statuses = dict(sorted(Counter(status for status, _ in results).items()))
    return Level(
        clients, len(results) / elapsed, len(ok) / elapsed, cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000, statuses
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", default="embed", choices=["embed", "compare", "cluster"])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=8, help="texts per request")
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE", help="settings for the instance")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "load.json")
    args = parser.parse_args()
    env = dict(pair.split("=", 1) for pair in args.env)
    with instance(args.function, env=env) as target:
        levels = [run_level(target.port, args.function, args.batch, n, args.seconds) for n in args.concurrency]
    peak = max(level.ok_per_s for level in levels)
    print(f"# Load: {args.function}, {args.batch} texts per request, {args.seconds:.0f} s per level")
    settings = f"; with {' '.join(args.env)}" if args.env else ""
    print(f"{time.strftime('%Y-%m-%d %H:%M')} on {describe()}; production command and vars/prod.yml{settings}\n")
    print("| clients | req/s | 200/s | % of peak | p50 ms | p95 ms | p99 ms | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    for level in levels:
        statuses = ", ".join(f"{status}: {count}" for status, count in level.statuses.items())
        print(
            f"| {level.clients} | {level.requests_per_s:.0f} | {level.ok_per_s:.0f} "
            f"| {100 * level.ok_per_s / peak:.0f} | {level.p50_ms:.1f} | {level.p95_ms:.1f} "
            f"| {level.p99_ms:.1f} | {statuses} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    levels_json = [dataclasses.asdict(level) for level in levels]
    report = {"machine": describe(), "function": args.function, "batch": args.batch, "levels": levels_json}
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
