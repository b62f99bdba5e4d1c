"""The gate a fast precision must pass before it may be served: int8 (ONNX Runtime quantization) vs exact.

python -m eval.fast_precision <data folder> [--per-channel] [--keep-f32 REGEX] [--static]

Quantizes the default model's exported graph (MatMul weights to int8; activations quantized at run time, or with
--static at ranges calibrated beforehand on 512 generated goal-like texts, not the dev data, as QDQ nodes),
keeping f32 the MatMuls whose node names match --keep-f32 (e.g. "output/dense": the sensitive layers), and
measures on the dev data, against the exact f32 vectors: duplicate decisions at the shipped thresholds (STS-B dev
and MRPC pairs; the gate is 99.5 % agreement), each text's 10 nearest neighbours (goals and Banking77; gate 99 %),
the worst per-vector cosine, and batch-32 throughput on the goals of both. Prints whether the gate passes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

from common.config import Settings
from common.engines.artifact import Artifact, verify
from common.engines.graph import GraphEngine, graph_engine
from common.vectors import Matrix
from eval import data
from tools.corpus import varied_texts

PAIR_GATE = 0.995
NEIGHBOUR_GATE = 0.99
NEIGHBOURS = 10


def engine(artifact: Artifact, graph: Path) -> GraphEngine:
    session = ort.InferenceSession(str(graph), ort.SessionOptions(), providers=["CPUExecutionProvider"])
    return graph_engine(
        artifact, lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0], 32, str(graph)
    )


class _Batches(CalibrationDataReader):  # type: ignore[misc]
    """512 generated goal-like texts in the calls the exact engine makes, for the static ranges."""

    def __init__(self, artifact: Artifact) -> None:
        calls = engine(artifact, artifact.model_path).calls(varied_texts(512, seed=11))
        self._feeds = [{"input_ids": ids, "attention_mask": mask} for _, ids, mask in calls]

    def get_next(self) -> dict[str, np.ndarray] | None:
        return self._feeds.pop() if self._feeds else None


def quantize(artifact: Artifact, out: Path, per_channel: bool, keep_f32: str, static: bool) -> int:
    """Writes the int8 graph; returns how many MatMuls stayed f32."""
    graph = onnx.load(str(artifact.model_path), load_external_data=False).graph
    kept = [
        node.name for node in graph.node if node.op_type == "MatMul" and keep_f32 and re.search(keep_f32, node.name)
    ]
    source, target = str(artifact.model_path), str(out)
    if static:
        quantize_static(
            source,
            target,
            _Batches(artifact),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            per_channel=per_channel,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QInt8,
            nodes_to_exclude=kept,
            extra_options={"ActivationSymmetric": True},
        )
    else:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=per_channel, nodes_to_exclude=kept)
    return len(kept)


def neighbours(vectors: Matrix) -> np.ndarray:
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -2)
    return np.argsort(-scores, axis=1)[:, :NEIGHBOURS]


def rate(encoder: GraphEngine, texts: list[str]) -> float:
    runs = []
    for _ in range(3):
        began = time.perf_counter()
        for start in range(0, len(texts), 32):
            encoder.encode(texts[start : start + 32])
        runs.append(len(texts) / (time.perf_counter() - began))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with stsb/, mrpc/, banking77/, ttadp/")
    parser.add_argument("--per-channel", action="store_true")
    parser.add_argument("--keep-f32", default="", help="regex of MatMul node names kept in f32")
    parser.add_argument("--static", action="store_true", help="activation ranges calibrated ahead (QDQ)")
    args = parser.parse_args()
    settings = Settings.from_environ()
    artifact = verify(settings.model_dirs[settings.model])
    with tempfile.TemporaryDirectory() as folder:
        graph = Path(folder) / "model.int8.onnx"
        kept = quantize(artifact, graph, args.per_channel, args.keep_f32, args.static)
        exact, fast = engine(artifact, artifact.model_path), engine(artifact, graph)
        sts, mrpc = data.stsb(args.data), data.mrpc(args.data)
        first, second = sts.first + mrpc.first, sts.second + mrpc.second
        e1, e2, f1, f2 = exact.encode(first), exact.encode(second), fast.encode(first), fast.encode(second)
        texts = data.goals(args.data) + data.banking77(args.data)[0][:3000]
        ec, fc = exact.encode(texts), fast.encode(texts)
        speed = [rate(exact, texts[:640]), rate(fast, texts[:640])]
    exact_cos, fast_cos = (e1 * e2).sum(1), (f1 * f2).sum(1)
    thresholds = (settings.duplicate_threshold, settings.cluster_threshold)
    agree = {t: float(np.mean((exact_cos >= t) == (fast_cos >= t))) for t in thresholds}
    pairs = zip(neighbours(ec), neighbours(fc), strict=True)
    overlap = float(np.mean([len(set(a) & set(b)) / NEIGHBOURS for a, b in pairs]))
    worst = float(min((e1 * f1).sum(1).min(), (e2 * f2).sum(1).min(), (ec * fc).sum(1).min()))
    kind = "static (calibrated, QDQ)" if args.static else "dynamic"
    print(f"int8 {kind}, per-channel={args.per_channel}, {kept} MatMuls kept f32 ({args.keep_f32 or 'none'})")
    for threshold, share in agree.items():
        print(f"  duplicate decisions agree at {threshold}: {share:.2%} of {len(first)} pairs (gate {PAIR_GATE:.1%})")
    print(f"  {NEIGHBOURS} nearest neighbours agree: {overlap:.2%} over {len(texts)} texts (gate {NEIGHBOUR_GATE:.0%})")
    print(f"  worst per-vector cosine to exact: {worst:.4f}")
    print(f"  batch 32 on goals: f32 {speed[0]:.0f} texts/s, int8 {speed[1]:.0f} texts/s ({speed[1] / speed[0]:.2f}x)")
    passed = min(agree.values()) >= PAIR_GATE and overlap >= NEIGHBOUR_GATE
    print(f"  gate: {'passed' if passed else 'NOT passed: not to be served'}")


if __name__ == "__main__":
    main()
