"""OpenVINO streams: one stream of all cores against one stream per core, two requests in flight (embed's slots).

python -m bench.streams [--precision bf16 f32] [--batches 40]
Each configuration runs in a process of its own: throughput on distinct goal-like texts cut into the calls the
production engine makes (up to 32 texts and MAX_BATCH_TOKENS a call), and the peak RSS after both requests ran
the largest call it makes (texts of the model's maximum length) at once.
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

import numpy as np
import openvino as ov

from bench.texts import goal_texts
from common.config import Settings
from common.engines.artifact import Artifact, verify
from common.engines.graph import GraphEngine, graph_engine
from tools.machine import describe

IN_FLIGHT = 2
MAX_TEXT_WORDS = 1_600  # 8,000 characters: past any model's maximum length


def _calls(artifact: Artifact) -> GraphEngine:
    """The production engine's tokenizing and batching (the calls it would make), without its backend."""

    def unused(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise AssertionError("only its calls are used")

    return graph_engine(artifact, unused, 32, "calls only")


def _compiled(folder_ir: str, streams: int, precision: str) -> ov.CompiledModel:
    config = {
        "PERFORMANCE_HINT": "THROUGHPUT" if streams > 1 else "LATENCY",
        "NUM_STREAMS": streams,
        "INFERENCE_NUM_THREADS": len(os.sched_getaffinity(0)),
        "INFERENCE_PRECISION_HINT": precision,
        "ENABLE_CPU_PINNING": False,
        "CPU_RUNTIME_CACHE_CAPACITY": 16,
    }
    return ov.Core().compile_model(folder_ir, "CPU", config)


def _in_flight(requests: list[ov.InferRequest], feeds: list[dict[str, np.ndarray]]) -> float:
    """Seconds for every feed, the requests taking turns in their own threads."""

    def run(k: int) -> None:
        for feed in feeds[k :: len(requests)]:
            requests[k].infer(feed)

    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def measure(streams: int, precision: str, batches: int) -> dict[str, float]:
    artifact = verify(Settings().model_dirs[Settings().model])
    texts = goal_texts(32 * batches, 3)
    feeds = [{"input_ids": ids, "attention_mask": mask} for _, ids, mask in _calls(artifact).calls(texts)]
    compiled = _compiled(str(artifact.ir_path), streams, precision)
    requests = [compiled.create_infer_request() for _ in range(IN_FLIGHT)]
    _in_flight(requests, feeds[: len(requests)])
    rate = float(np.median([len(texts) / _in_flight(requests, feeds) for _ in range(3)]))
    _, ids, mask = next(_calls(artifact).calls(["goal " * MAX_TEXT_WORDS] * 32))
    _in_flight(requests, [{"input_ids": ids, "attention_mask": mask}] * len(requests))
    return {"texts_per_s": rate, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", nargs="+", default=["bf16", "f32"])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--one", nargs=2, metavar=("STREAMS", "PRECISION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1], args.batches)))
        return
    print(describe())
    print(f"python -m bench.streams --precision {' '.join(args.precision)} --batches {args.batches}")
    for precision in args.precision:
        for streams in (1, 2):
            child = [sys.executable, "-m", "bench.streams", "--one", str(streams), precision]
            ran = subprocess.run([*child, "--batches", str(args.batches)], check=True, capture_output=True, text=True)
            found = json.loads(ran.stdout)
            print(
                f"{precision}, {streams} stream(s), {IN_FLIGHT} requests in flight: {found['texts_per_s']:.0f} "
                f"texts/s, peak RSS {found['peak_rss_mb']:.0f} MB after the largest call on both"
            )


if __name__ == "__main__":
    main()
