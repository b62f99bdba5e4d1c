"""Peak memory of each function under its largest allowed requests, as many at once as it has slots.

python -m bench.memory [--functions embed compare cluster] [--out reports/memory.json]
Sizes the Cloud Foundry memory quota in vars/*.yml: peak RSS (VmHWM) of the server process.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.harness import goal_texts, machine, post, rss_mb, server
from common.config import PROJECT_ROOT, Settings
from common.serving.limits import DEFAULTS, MAX_TEXT_CHARS

DIMENSIONS = 384


def _long_texts(count: int, chars: int, seed: int) -> list[str]:
    """Distinct texts of about `chars` characters (every one past the 256-token truncation when long)."""
    words = " ".join(goal_texts(400, seed)).split()
    rng = random.Random(seed)
    texts = []
    for index in range(count):
        text = f"{index} "
        while len(text) < chars:
            text += rng.choice(words) + " "
        texts.append(text[:chars])
    return texts


def _vectors(count: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(DIMENSIONS)] for _ in range(count)]


def _fit(make: Callable[[int], dict[str, Any]], items: int, limit: int) -> dict[str, Any]:
    """The body with as many items as the limits allow: `items`, or fewer if the bytes run out first."""
    while len(json.dumps(make(items))) > limit:
        items = int(items * 0.95)
    return make(items)


def largest_requests(function: str) -> dict[str, dict[str, Any]]:
    """The heaviest bodies each function admits, by kind."""
    items, body = DEFAULTS[function].items, DEFAULTS[function].body_bytes
    if function == "embed":
        return {"longest texts": _fit(lambda n: {"texts": _long_texts(n, MAX_TEXT_CHARS, 1)}, items, body)}
    if function == "compare":
        return {
            "all pairs, 380-char texts": _fit(
                lambda n: {"texts": _long_texts(n, 380, 2), "threshold": 0.99}, items, body
            ),
            "query vs stored vectors": _fit(
                lambda n: {
                    "query": "Improve attendance",
                    "candidates": [{"id": i, "embedding": v} for i, v in enumerate(_vectors(n, 3))],
                },
                items,
                body,
            ),
        }
    return {
        "stored vectors": {"embeddings": _vectors(5_000, 4)},
        "6,000-char texts": _fit(lambda n: {"texts": _long_texts(n, 6_000, 5)}, items, body),
    }


def measure(function: str, port: int, slots: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with server(function, port) as (process, _):
        results["rss_after_load_mb"] = rss_mb(process.pid)
        for kind, body in largest_requests(function).items():
            began = time.perf_counter()
            with ThreadPoolExecutor(slots) as pool:
                statuses = list(pool.map(post, [port] * slots, [body] * slots, [900] * slots))
            count = max(len(v) for v in body.values() if isinstance(v, list))
            size = len(json.dumps(body))
            results[kind] = {
                "items": count,
                "body_bytes": size,
                "statuses": statuses,
                "seconds": time.perf_counter() - began,
            }
            print(f"{function}: {slots} x {kind} ({count} items, {size:,} bytes) → {statuses}", flush=True)
        results["peak_rss_mb"] = rss_mb(process.pid, "VmHWM")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", nargs="+", default=["embed", "compare", "cluster"])
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "memory.json")
    args = parser.parse_args()
    slots = Settings.from_environ().max_inflight
    results = {function: measure(function, args.port, slots) for function in args.functions}
    print(f"\n# Memory, {time.strftime('%Y-%m-%d %H:%M')} on {machine()}; {slots} largest requests at once\n")
    print("| function | RSS after load MB | peak RSS MB | largest requests |")
    print("|---|---|---|---|")
    for function, r in results.items():
        kinds = "; ".join(
            f"{k}: {v['items']} items, {v['body_bytes'] / 1e6:.1f} MB" for k, v in r.items() if isinstance(v, dict)
        )
        print(f"| {function} | {r['rss_after_load_mb']:.0f} | {r['peak_rss_mb']:.0f} | {kinds} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "slots": slots, "results": results}, indent=2))


if __name__ == "__main__":
    main()
