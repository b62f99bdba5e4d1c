"""Engines side by side, in one run: cold start, memory and batch-32 throughput, in-process and over HTTP.

python -m bench.engines [--backends openvino onnxruntime sentence-transformers] [--out reports/engines.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from common.config import PROJECT_ROOT, Settings
from common.models import load_engine
from tests.corpus import goal

BATCH = 32
REPEATS = 3
START_TIMEOUT_S = 60


def goal_texts(count: int, seed: int) -> list[str]:
    """Distinct goal-like texts of 8-30 words (distinct, so no cache helps)."""
    rng = random.Random(seed)
    return [f"{goal(rng)} (plan {seed}-{index})" for index in range(count)]


def _post(port: int, texts: list[str]) -> int:
    body = json.dumps({"texts": texts}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        status: int = response.status
        return status


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def over_http(backend: str, port: int) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SIMFN_BACKEND": backend}
    command = [sys.executable, "-m", "common.server", "embed", "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if _post(port, ["Improve family engagement"]) == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.perf_counter() - started > START_TIMEOUT_S:
                    raise RuntimeError(f"{backend} server did not answer within {START_TIMEOUT_S} s") from None
                time.sleep(0.01)
        cold = time.perf_counter() - started
        rss_loaded = _rss_mb(server.pid)
        rates = []
        for repeat in range(REPEATS):
            texts = goal_texts(20 * BATCH, seed=100 + repeat)
            began = time.perf_counter()
            for start in range(0, len(texts), BATCH):
                _post(port, texts[start : start + BATCH])
            rates.append(len(texts) / (time.perf_counter() - began))
        return {"cold_start_s": cold, "rss_after_load_mb": rss_loaded, "http_per_s": statistics.median(rates)}
    finally:
        server.terminate()
        server.wait(timeout=10)


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
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "engines.json")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for backend in args.backends:
        results[backend] = {**over_http(backend, args.port), **in_process(backend)}
    cpu = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line)
    machine = f"{cpu.split(':')[1].strip()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# Engines, {time.strftime('%Y-%m-%d %H:%M')} on {machine}; batch {BATCH}, median of {REPEATS}\n")
    print("| backend | engine | cold start s | RSS after load MB | in-process texts/s | HTTP texts/s |")
    print("|---|---|---|---|---|---|")
    for backend, r in results.items():
        print(
            f"| {backend} | {r['engine']} | {r['cold_start_s']:.2f} | {r['rss_after_load_mb']:.0f} "
            f"| {r['in_process_per_s']:.0f} | {r['http_per_s']:.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "batch": BATCH, "results": results}, indent=2))


if __name__ == "__main__":
    main()
