"""OpenVINO engine: the exported graph on the CPU, in bf16 where the CPU has it natively (the default)."""

from __future__ import annotations

import queue
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Importing openvino sends a usage event to Google Analytics from a forked process, without asking, unless
# a consent file says no. With no egress (cloud.gov) the child hangs holding our stdout; with egress it leaks.
# Without openvino_telemetry, OpenVINO uses its built-in no-op stub.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402

from common.config import Settings  # noqa: E402
from common.engines.artifact import ArtifactError, verify  # noqa: E402
from common.engines.choice import fast_bf16  # noqa: E402
from common.engines.graph import GraphEngine, TokenIds, graph_engine  # noqa: E402
from common.vectors import Matrix  # noqa: E402

# Call widths are rounded up to a multiple of this: the CPU plugin keeps state per input shape, and exact
# widths took embed from 271 to 301 MB over bench.report's sequence of requests (268 MB rounded to 8; speed
# unchanged). ONNX Runtime keeps none, and runs exact widths (faster there: docs/engines.md).
WIDTH_STEP = 8


def load(folder: Path, settings: Settings, ungated: bool = False) -> GraphEngine:
    """The engine; `auto` runs bf16 only where it beats f32 (choice.fast_bf16) and the model passed its bf16 gate.

    ungated: the exporter's own parity run, before there is a gate to read.
    """
    artifact = verify(folder)
    gated = ungated or artifact.passed("openvino bf16")
    precision = settings.precision
    if precision == "bf16" and not gated:
        raise ArtifactError(f"{folder}: bf16 did not pass its parity gate at export (or was not measured)")
    if precision == "auto":
        # OpenVINO's own default is bf16 wherever the CPU has AVX-512 BF16, slower than f32 on Intel without AMX.
        precision = "bf16" if gated and fast_bf16() else "f32"
    # The CPU plugin keeps compiled state for every input shape it has seen (default 5,000 shapes): each
    # (batch, length) pair added megabytes, 2.6 GB after 512 shapes. 16 keeps the common shapes warm.
    config: dict[str, Any] = {
        "PERFORMANCE_HINT": "LATENCY",
        "ENABLE_CPU_PINNING": False,
        "CPU_RUNTIME_CACHE_CAPACITY": 16,
        "INFERENCE_PRECISION_HINT": precision,
    }
    if settings.engine_threads:
        config["INFERENCE_NUM_THREADS"] = settings.engine_threads
    compiled = ov.Core().compile_model(str(artifact.ir_path), "CPU", config)
    precision = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
    # An infer request is not thread-safe, and each keeps the buffers of the largest batch it has run
    # (~170 MB for 32 texts of 256 tokens): one per inference slot, shared by all threads, bounds memory.
    pool: queue.SimpleQueue[ov.InferRequest] = queue.SimpleQueue()
    one = np.ones((1, 1), dtype=np.int64)
    for _ in range(settings.max_inflight):
        request = compiled.create_infer_request()
        # The first inference initialises pybind11's numpy bindings; two threads doing it at once deadlock
        # (one holds the once-guard waiting for the GIL, the other holds the GIL waiting for the guard).
        # Running it here, before any request can reach the engine, keeps a request during warm-up safe.
        request.infer({"input_ids": one, "attention_mask": one})
        pool.put(request)

    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        request = pool.get()
        try:
            # share_outputs=False (the default): the result is a copy, safe after the request is reused.
            result: Matrix = request.infer({"input_ids": ids, "attention_mask": mask})[0]
        finally:
            pool.put(request)
        return result

    description = f"openvino {version('openvino')} {precision}"
    return graph_engine(artifact, infer, settings.batch_size, description, WIDTH_STEP)
