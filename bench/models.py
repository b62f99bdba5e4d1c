"""Own models, measured in one run: export time, artifact size, parity, memory with one and two loaded, speed.

python -m bench.models [--out docs/models.md]
Exports the default model and small random models of each architecture the exporter supports (built offline:
nothing can be downloaded here), then measures each artifact on the engine `auto` picks against
sentence-transformers in-process, and the memory an embed instance holds with a second model loaded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client
from bench.launch import KEY, instance, rss_mb
from bench.texts import goal_texts
from common.config import DEFAULT_MODEL, PROJECT_ROOT, Settings
from common.engines import choice
from common.models import load_engine
from tools import tiny
from tools.export import DEFAULT_SOURCE, export, resolve_source
from tools.machine import describe

BATCH = 32
TEXTS = 640
TINY = [
    ("bert", "mean", False, True),
    ("xlm-roberta", "cls", True, False),
    ("mpnet", "max", False, False),
    ("distilbert", "mean_sqrt_len_tokens", True, True),
]


@dataclass
class Row:
    model: str
    export_s: float
    size_mb: float
    parity: dict[str, float | None]
    ours_per_s: float
    reference_per_s: float
    engine: str


def _rate(encode: Callable[[list[str]], object]) -> float:
    texts = goal_texts(TEXTS, seed=5)
    encode(texts[:BATCH])
    began = time.perf_counter()
    for start in range(0, TEXTS, BATCH):
        encode(texts[start : start + BATCH])
    return TEXTS / (time.perf_counter() - began)


def measure(name: str, source: str, out: Path) -> Row:
    from sentence_transformers import SentenceTransformer

    began = time.perf_counter()
    folder = export(source, name, out)
    export_s = time.perf_counter() - began
    record = json.loads((folder / "provenance.json").read_text())
    settings = Settings(model_dirs={name: folder}, model=name)
    engine = load_engine(folder, settings)
    reference = SentenceTransformer(str(resolve_source(source)[0]), device="cpu")
    return Row(
        name,
        export_s,
        sum(path.stat().st_size for path in folder.iterdir()) / 1e6,
        record["parity"]["worst_cosine"],
        _rate(engine.encode),
        _rate(lambda texts: reference.encode(texts, batch_size=BATCH, normalize_embeddings=True)),
        engine.description,
    )


def two_models_rss(second: Path) -> tuple[float, float]:
    """RSS of an embed instance with the default model loaded, then with `second` loaded beside it."""
    models = f"{DEFAULT_MODEL}={Settings().model_dirs[DEFAULT_MODEL]},second={second}"
    with instance("embed", env={"SIMFN_MODELS": models}) as target, Client(target.port) as client:
        one = rss_mb(target.pid)
        assert client.post({"texts": ["a goal"], "model": "second"}, KEY).status == 200
        return one, rss_mb(target.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "models.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        rows.append(measure("all-MiniLM-L6-v2 (copy)", DEFAULT_SOURCE, root / "minilm"))
        one, two = two_models_rss(root / "minilm")
        for kind, pooling, dense, normalize in TINY:
            source = tiny.build(root / kind, kind, pooling, dense, normalize)
            label = f"tiny {kind}, {pooling}{', Dense' if dense else ''}{', Normalize' if normalize else ''}"
            rows.append(measure(label, str(source), root / kind / "artifact"))
    lines = [
        "# Own models",
        "",
        f"Written by `python -m bench.models` on {time.strftime('%Y-%m-%d %H:%M')}, {describe()}; `auto` runs",
        f"{choice.resolve('auto')} here. Tiny models are random (2 layers, hidden 32): their speed says little about",
        "a real model's, their parity that every architecture and pooling exports exactly. Throughput:",
        f"{TEXTS} new goal texts in batches of {BATCH}, in-process, against sentence-transformers on the same cores.",
        "",
        "| model | export s | artifact MB | worst cosine: ONNX Runtime f32 / OpenVINO f32 / OpenVINO bf16 "
        "| engine | texts/s | sentence-transformers texts/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        bf16 = row.parity["openvino bf16"]
        cosines = f"{row.parity['onnxruntime f32']:.7f} / {row.parity['openvino f32']:.7f} / " + (
            "not measured" if bf16 is None else f"{bf16:.7f}"
        )
        lines.append(
            f"| {row.model} | {row.export_s:.1f} | {row.size_mb:.1f} | {cosines} | {row.engine} "
            f"| {row.ours_per_s:.0f} | {row.reference_per_s:.0f} |"
        )
    lines += [
        "",
        f"An embed instance (production command, vars/prod.yml) holds {one:.0f} MB with the default model loaded and "
        f"{two:.0f} MB with a second MiniLM-sized model beside it: {two - one:.0f} MB for the second model.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
