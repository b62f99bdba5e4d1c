"""ONNX Runtime engine: the exported graph on the CPU in exact fp32."""

from __future__ import annotations

import threading
from pathlib import Path

import onnxruntime as ort

from common.config import Settings, SettingsError
from common.engines.artifact import verify
from common.engines.graph import GraphEngine, TokenIds, graph_engine
from common.vectors import Matrix


def load(folder: Path, settings: Settings) -> GraphEngine:
    artifact = verify(folder)
    if settings.precision == "bf16":
        raise SettingsError("SIMFN_PRECISION: onnxruntime runs f32 only on the CPU")
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.engine_threads
    # ORT's arena keeps the largest call's memory for reuse; with every call capped at MAX_BATCH_TOKENS that is
    # bounded (embed peaked at 241 MB over bench.report's sequence, 229 MB without it). Without the arena every
    # activation came from malloc, and glibc, told to map every block over 256 kB on its own
    # (common.allocator), faulted fresh pages on every op: 190 texts/s in the server against 371 with it.
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False
    session = ort.InferenceSession(str(artifact.model_path), options, providers=["CPUExecutionProvider"])

    # One call at a time: each already uses every core, and two at once held twice the activations
    # (embed peaked at 283 MB under two of its largest requests at once, against 288M).
    lock = threading.Lock()

    def infer(ids: TokenIds, mask: TokenIds) -> Matrix:
        with lock:
            result: Matrix = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return result

    # Exact widths (graph_engine's default): on the Xeon without AMX, goal-like texts 356 vs 300 texts/s
    # with widths rounded to 8, real goals 207 vs 190 (three runs each, interleaved).
    return graph_engine(artifact, infer, settings.batch_size, f"onnxruntime {ort.__version__} f32")
