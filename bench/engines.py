"""Engines side by side, in one run: cold start, memory and batch-32 throughput, in-process and over HTTP.

python -m bench.engines [--backends openvino onnxruntime sentence-transformers] [--out reports/engines.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.client import Client
from bench.launch import KEY, instance, rss_mb
from bench.texts import goal_texts
from common.config import PROJECT_ROOT, Settings
from common.models import load_engine
from tools.machine import describe

BATCH = 32
REPEATS = 3


def over_http(backend: str) -> dict[str, float]:
    with instance("embed", env={"SIMFN_BACKEND": backend}) as target, Client(target.port) as client:
        rss_loaded = rss_mb(target.pid)
        rates = []
        for repeat in range(REPEATS):
            texts = goal_texts(20 * BATCH, seed=100 + repeat)
            began = time.perf_counter()
            for start in range(0, len(texts), BATCH):
                assert client.post({"texts": texts[start : start + BATCH]}, KEY).status == 200
            rates.append(len(texts) / (time.perf_counter() - began))
    return {
        "cold_start_s": target.cold_start_s,
        "rss_after_load_mb": rss_loaded,
        "http_per_s": statistics.median(rates),
    }


def in_process(backend: str) -> dict[str, Any]:
    settings = Settings.from_environ({"SIMFN_BACKEND": backend})
    engine = load_engine(settings.model_dirs[settings.model], settings)
    engine.encode(["warm-up"])
    rates = []
    for repeat in range(REPEATS):
        texts = goal_texts(20 * BATCH, seed=repeat)
        began = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            engine.encode(texts[start : start + BATCH])
        rates.append(len(texts) / (time.perf_counter() - began))
    return {"in_process_per_s": statistics.median(rates), "engine": engine.description}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sentence-transformers", "onnxruntime", "openvino"])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "engines.json")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for backend in args.backends:
        results[backend] = {**over_http(backend), **in_process(backend)}
    print(f"# Engines, {time.strftime('%Y-%m-%d %H:%M')} on {describe()}; batch {BATCH}, median of {REPEATS}\n")
    print("| backend | engine | cold start s | RSS after load MB | in-process texts/s | HTTP texts/s |")
    print("|---|---|---|---|---|---|")
    for backend, r in results.items():
        print(
            f"| {backend} | {r['engine']} | {r['cold_start_s']:.2f} | {r['rss_after_load_mb']:.0f} "
            f"| {r['in_process_per_s']:.0f} | {r['http_per_s']:.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": describe(), "batch": BATCH, "results": results}, indent=2))


if __name__ == "__main__":
    main()
