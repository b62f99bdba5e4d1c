"""What the machine's arithmetic allows: matrix throughput measured here, the model's FLOPs, the texts/s ceiling.

python -m bench.ceiling [--model models/all-MiniLM-L6-v2] [--goals PATH_TO_goals.csv]

The ceiling for a set of texts is the machine's measured matrix throughput divided by the FLOPs those texts
cost at their real (unpadded) token counts: no engine can encode them faster at that precision. Throughput
figures elsewhere in bench are also given as a percentage of it. Beside it: how much production's calls pad
beyond the real tokens, and where ONNX Runtime's time goes on those calls, by operator (its profiler): the
matrix products are what the ceiling counts; the rest (softmax, GELU, layer norm, adds, transposes) it leaves out.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from bench.streams import production_feeds
from bench.texts import goal_texts, real_goals
from common.config import Settings
from common.engines.artifact import Artifact, verify
from common.engines.choice import BF16_FLAGS, cpu_flags
from common.engines.graph import load_tokenizer
from tools.machine import describe

# Activations x weights as in a batch of 32 goals of ~30 tokens through a MiniLM layer's feed-forward.
SHAPE = (1024, 384, 1536)
SECONDS = 0.5
TRIALS = 4


@dataclass(frozen=True)
class ModelCost:
    weight_macs: int  # multiply-adds per token in the matrix products with weights
    attention_macs_per_position: int  # per token and per other position attended to: 2 x layers x width

    def flops(self, tokens: int) -> int:
        """FLOPs to encode one text of `tokens` tokens."""
        return 2 * tokens * (self.weight_macs + self.attention_macs_per_position * tokens)


def model_cost(artifact: Artifact) -> ModelCost:
    """From the exported graph: every MatMul or Gemm with a 2-D weight, and the attention products (QKᵀ, AV)."""
    graph = onnx.load(str(artifact.model_path), load_external_data=False).graph
    weights = {tensor.name: tensor.dims for tensor in graph.initializer if len(tensor.dims) == 2}
    macs, attention = 0, 0
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm"):
            shapes = [weights[name] for name in node.input if name in weights]
            if shapes:
                macs += int(np.prod(shapes[0]))
            else:
                attention += 1
    return ModelCost(macs, attention * artifact.dimensions)


def _rate(step: Callable[[], object], flops: float, trials: int) -> float:
    """GFLOP/s at the best of `trials` runs of SECONDS each: the peak, which a shared machine reaches only at times."""
    step()
    best = 0.0
    for _ in range(trials):
        runs, began = 0, time.perf_counter()
        while time.perf_counter() - began < SECONDS:
            step()
            runs += 1
        best = max(best, runs * flops / (time.perf_counter() - began) / 1e9)
    return best


def f32_gflops(trials: int = TRIALS) -> float:
    """numpy's sgemm (every core) on a layer-sized product."""
    m, k, n = SHAPE
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    return _rate(lambda: a @ b, 2.0 * m * k * n, trials)


def openvino_gflops(precision: str, trials: int = TRIALS) -> float:
    """OpenVINO's CPU plugin on the same product, at the inference precision given (f32 or bf16)."""
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino as ov
    import openvino.opset13 as ops

    m, k, n = SHAPE
    weight = np.random.default_rng(0).standard_normal((k, n), dtype=np.float32)
    data = ops.parameter([m, k], np.float32)
    model = ov.Model([ops.matmul(data, ops.constant(weight), False, False)], [data])
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    request = compiled.create_infer_request()
    inputs = {0: np.random.default_rng(1).standard_normal((m, k), dtype=np.float32)}
    return _rate(lambda: request.infer(inputs), 2.0 * m * k * n, trials)


@dataclass(frozen=True)
class Ceiling:
    machine: str
    gflops: dict[str, float]  # precision → measured GFLOP/s
    flops_per_text: float  # mean over the texts, at their real token counts
    mean_tokens: float

    def texts_per_s(self, precision: str = "f32") -> float:
        return self.gflops[precision] * 1e9 / self.flops_per_text

    def percent(self, texts_per_s: float, precision: str = "f32") -> float:
        return 100 * texts_per_s / self.texts_per_s(precision)

    def render(self, label: str) -> str:
        rates = ", ".join(f"{name} {value:.0f} GFLOP/s" for name, value in self.gflops.items())
        ceilings = ", ".join(f"{name} {self.texts_per_s(name):.0f}/s" for name in self.gflops)
        return (
            f"Ceiling for {label}: {self.mean_tokens:.1f} real tokens a text, {self.flops_per_text / 1e6:.0f} MFLOP "
            f"a text; matrix products measured here: {rates}; so at most {ceilings}."
        )


def precision_of(engine: str) -> str:
    """The precision an engine's description ends with ("openvino 2026.4.1 bf16" → "bf16"): its ceiling's."""
    return engine.rsplit(" ", 1)[-1]


def precision_gflops(precision: str, trials: int = TRIALS) -> float:
    """One precision's matrix throughput; f32 is numpy's sgemm or OpenVINO's, whichever is faster."""
    if precision == "f32":
        return max(f32_gflops(trials), openvino_gflops("f32", trials))
    return openvino_gflops(precision, trials)


@functools.cache
def machine_gflops() -> dict[str, float]:
    """Matrix throughput per precision, measured once per process: every ceiling of a run shares it."""
    precisions = ["f32", "bf16"] if BF16_FLAGS & cpu_flags() else ["f32"]
    return {precision: precision_gflops(precision) for precision in precisions}


def text_cost(artifact: Artifact, texts: Sequence[str]) -> tuple[float, float]:
    """The mean FLOPs and mean tokens of one of these texts, at their real (unpadded) token counts."""
    tokenizer = load_tokenizer(artifact.tokenizer_path, artifact.max_seq_length, artifact.pad_token)
    tokenizer.no_padding()
    counts = [len(encoding.ids) for encoding in tokenizer.encode_batch(list(texts))]
    cost = model_cost(artifact)
    return float(np.mean([cost.flops(count) for count in counts])), float(np.mean(counts))


def measure(artifact: Artifact, texts: Sequence[str]) -> Ceiling:
    """The ceiling for these texts through this model on this machine (its rates measured once per process)."""
    flops, tokens = text_cost(artifact, texts)
    return Ceiling(describe(), machine_gflops(), flops, tokens)


@dataclass(frozen=True)
class TimeSplit:
    """Where an engine's time goes beside the arithmetic the ceiling counts."""

    shares: dict[str, float]  # operator type → share of ONNX Runtime's kernel time, largest first
    padding: float  # padded positions per real token in production's calls, minus one

    def render(self) -> str:
        products = sum(share for name, share in self.shares.items() if "MatMul" in name or name == "Gemm")
        top = ", ".join(f"{name} {100 * share:.1f} %" for name, share in list(self.shares.items())[:6])
        return (
            f"Production's calls pad {100 * self.padding:.1f} % beyond the real tokens; ONNX Runtime's time on them: "
            f"matrix products {100 * products:.1f} % ({top})."
        )


def time_split(artifact: Artifact, texts: Sequence[str]) -> TimeSplit:
    """ONNX Runtime's kernel time per operator type (its profiler) over the calls production makes for the texts."""
    import onnxruntime as ort

    feeds = production_feeds(artifact, list(texts))
    with tempfile.TemporaryDirectory() as folder:
        options = ort.SessionOptions()
        options.enable_profiling, options.profile_file_prefix = True, str(Path(folder) / "profile")
        session = ort.InferenceSession(str(artifact.model_path), options, providers=["CPUExecutionProvider"])
        for feed in feeds * 2:
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    spent: Counter[str] = Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            spent[event["args"]["op_name"]] += event["dur"]
    total = sum(spent.values())
    real = sum(int(feed["attention_mask"].sum()) for feed in feeds)
    padded = sum(feed["attention_mask"].size for feed in feeds)
    return TimeSplit({name: time / total for name, time in spent.most_common()}, padded / real - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="artifact folder; the default model's if absent")
    parser.add_argument("--goals", type=Path, help="a CSV with a `goal` column (e.g. shared/data/ttadp/goals.csv)")
    args = parser.parse_args()
    settings = Settings.from_environ()
    artifact = verify(args.model or settings.model_dirs[settings.model])
    print(describe())
    texts = {"goal-like texts": goal_texts(640, seed=1)}
    if args.goals:
        texts[f"the goals of {args.goals}"] = real_goals(args.goals)
    for label, some in texts.items():
        print(measure(artifact, some).render(label))
        print(time_split(artifact, some).render())


if __name__ == "__main__":
    main()
