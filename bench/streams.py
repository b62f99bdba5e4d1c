"""Streams: one engine call at a time on every core, against one call per core, two requests in flight.

python -m bench.streams [--engines openvino-bf16 openvino-f32 onnxruntime-f32] [--batches 40] [--goals PATH]
Each configuration runs in a process of its own: throughput on distinct goal-like texts (or, with --goals, the
real goals of that CSV) cut into the calls the production engine makes (up to 32 texts and MAX_BATCH_TOKENS a
call), and the peak RSS after both requests ran the largest call it makes (texts of the model's maximum length)
at once. One stream is what production runs: OpenVINO's LATENCY hint, ONNX Runtime's calls one at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.texts import goal_texts, real_goals
from common.config import Settings
from common.engines.artifact import Artifact, verify
from common.engines.choice import BF16_FLAGS, cpu_flags
from common.engines.graph import graph_engine
from common.engines.openvino import WIDTH_STEP
from tools.machine import describe

IN_FLIGHT = 2
MAX_TEXT_WORDS = 1_600  # 8,000 characters: past any model's maximum length
ENGINES = ("openvino-bf16", "openvino-f32", "onnxruntime-f32")
Feed = dict[str, np.ndarray]
Run = Callable[[Feed], object]


def production_feeds(artifact: Artifact, texts: list[str], width_step: int = 1) -> list[Feed]:
    """The calls a production engine makes for the texts (its tokenizing and batching), as backend feeds.

    width_step: the backend's (OpenVINO's WIDTH_STEP; ONNX Runtime runs exact widths).
    """

    def unused(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise AssertionError("only its calls are used")

    calls = graph_engine(artifact, unused, 32, "calls only", width_step).calls(texts)
    return [{"input_ids": ids, "attention_mask": mask} for _, ids, mask in calls]


def _openvino(artifact: Artifact, streams: int, precision: str) -> list[Run]:
    """One infer request per request in flight, on one stream of every core or one stream per core."""
    import openvino as ov  # after common.engines.openvino, which keeps its telemetry off

    config = {
        "PERFORMANCE_HINT": "THROUGHPUT" if streams > 1 else "LATENCY",
        "NUM_STREAMS": streams,
        "INFERENCE_NUM_THREADS": len(os.sched_getaffinity(0)),
        "INFERENCE_PRECISION_HINT": precision,
        "ENABLE_CPU_PINNING": False,
        "CPU_RUNTIME_CACHE_CAPACITY": 16,
    }
    compiled = ov.Core().compile_model(str(artifact.ir_path), "CPU", config)
    return [compiled.create_infer_request().infer for _ in range(IN_FLIGHT)]


def _onnxruntime(artifact: Artifact, streams: int) -> list[Run]:
    """One session: every core on one call at a time (production), or one thread per call, calls at once."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0)) if streams == 1 else 1
    options.enable_cpu_mem_arena, options.enable_mem_pattern = True, False
    session = ort.InferenceSession(str(artifact.model_path), options, providers=["CPUExecutionProvider"])
    lock = threading.Lock() if streams == 1 else None

    def run(feed: Feed) -> object:
        if lock is None:
            return session.run(None, feed)
        with lock:
            return session.run(None, feed)

    return [run] * IN_FLIGHT


def _in_flight(runs: list[Run], feeds: list[Feed]) -> float:
    """Seconds for every feed, the requests in flight taking turns in their own threads."""

    def run(k: int) -> None:
        for feed in feeds[k :: len(runs)]:
            runs[k](feed)

    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def measure(engine: str, streams: int, batches: int, goals: Path | None = None) -> dict[str, float]:
    artifact = verify(Settings().model_dirs[Settings().model])
    texts = real_goals(goals, 32 * batches) if goals else goal_texts(32 * batches, 3)
    backend, precision = engine.split("-")
    step = WIDTH_STEP if backend == "openvino" else 1
    feeds = production_feeds(artifact, texts, step)
    runs = _openvino(artifact, streams, precision) if backend == "openvino" else _onnxruntime(artifact, streams)
    _in_flight(runs, feeds[: len(runs)])
    rate = float(np.median([len(texts) / _in_flight(runs, feeds) for _ in range(3)]))
    _in_flight(runs, production_feeds(artifact, ["goal " * MAX_TEXT_WORDS] * 32, step)[:1] * len(runs))
    return {"texts_per_s": rate, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--goals", type=Path, help="a CSV with a `goal` column; goal-like texts if absent")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "STREAMS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.batches, args.goals)))
        return
    engines = [name for name in args.engines if not name.endswith("bf16") or BF16_FLAGS & cpu_flags()]
    print(describe())
    print(" ".join(["python -m bench.streams", *sys.argv[1:]]))
    for engine in engines:
        for streams in (1, 2):
            child = [sys.executable, "-m", "bench.streams", "--one", engine, str(streams)]
            child += ["--batches", str(args.batches)] + (["--goals", str(args.goals)] if args.goals else [])
            found = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            print(
                f"{engine}, {streams} stream(s), {IN_FLIGHT} requests in flight: {found['texts_per_s']:.0f} "
                f"texts/s, peak RSS {found['peak_rss_mb']:.0f} MB after the largest call on both"
            )


if __name__ == "__main__":
    main()
