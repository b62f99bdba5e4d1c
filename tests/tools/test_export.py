from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT, Settings
from common.engines import openvino
from common.engines.artifact import PROVENANCE_FILE, REQUIRED_FILES, ArtifactError, sha256_of, verify
from tools import export as exporter
from tools import tiny
from tools.export import PARITY_FLOOR, ExportError, export

pytestmark = pytest.mark.slow

# Architectures and poolings; with and without Dense and Normalize.
MODELS = [
    ("bert", "mean", False, True),
    ("xlm-roberta", "cls", True, False),
    ("mpnet", "max", False, False),
    ("distilbert", "mean_sqrt_len_tokens", True, True),
    ("bert", "weightedmean", False, False),
    ("bert", "lasttoken", True, False),
]


def test_export_rebuilds_the_artifact_byte_for_byte(tmp_path: Path) -> None:
    settings = Settings()
    built = verify(settings.model_dirs[settings.model])
    fresh = verify(export(out=tmp_path / "artifact"))
    for name in REQUIRED_FILES:
        assert sha256_of(fresh.folder / name) == sha256_of(built.folder / name), f"{name} differs from the build"
    assert fresh.provenance["source"] == built.provenance["source"]


@pytest.mark.parametrize(("kind", "pooling", "dense", "normalize"), MODELS)
def test_export_of_any_supported_model_passes_the_parity_gate(
    tmp_path: Path, kind: str, pooling: str, dense: bool, normalize: bool
) -> None:
    source = tiny.build(tmp_path, kind, pooling, dense, normalize)
    record = verify(export(str(source), "tiny", tmp_path / "tiny")).provenance
    worst = record["parity"]["worst_cosine"]
    assert min(worst["onnxruntime f32"], worst["openvino f32"]) >= PARITY_FLOOR, worst
    assert (record["dimensions"], record["pooling"]) == (16 if dense else tiny.HIDDEN, pooling)
    assert record["token_type_ids"] == (kind in ("bert", "xlm-roberta")) and record["source"]["folder"] == str(source)


def test_export_refuses_a_module_it_cannot_run(tmp_path: Path) -> None:
    source = tiny.build(tmp_path, "bert", "mean")
    modules = json.loads((source / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_LayerNorm", "type": "sentence_transformers.models.LayerNorm"})
    (source / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ExportError, match="module LayerNorm is not supported"):
        export(str(source), "tiny", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_folder_without_a_tokenizer(tmp_path: Path) -> None:
    source = tiny.build(tmp_path, "bert", "mean")
    (source / "tokenizer.json").unlink()
    with pytest.raises(ExportError, match=r"no tokenizer\.json"):
        export(str(source), "tiny", tmp_path / "out")


def test_export_writes_nothing_when_parity_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tiny.build(tmp_path, "bert", "mean")
    monkeypatch.setattr(exporter, "PARITY_FLOOR", 1.01)  # no engine can reach it
    with pytest.raises(ExportError, match="parity gate"):
        export(str(source), "tiny", tmp_path / "out" / "tiny")
    assert list((tmp_path / "out").iterdir()) == [], "a failed export left files behind"


def test_a_corrupted_weight_after_export_is_refused_at_load(tmp_path: Path) -> None:
    folder = export(str(tiny.build(tmp_path, "bert", "mean")), "tiny", tmp_path / "tiny")
    with (folder / "model.bin").open("r+b") as weights:
        weights.seek(100)
        weights.write(b"\x00\x01\x02")
    with pytest.raises(ArtifactError, match=r"model\.bin is corrupt"):
        verify(folder)


def test_a_model_is_not_served_in_bf16_where_its_gate_failed(tmp_path: Path) -> None:
    folder = export(str(tiny.build(tmp_path, "bert", "mean")), "tiny", tmp_path / "tiny")
    record = json.loads((folder / PROVENANCE_FILE).read_text())
    record["parity"]["worst_cosine"]["openvino bf16"] = 0.99
    (folder / PROVENANCE_FILE).write_text(json.dumps(record))
    settings = Settings(model_dirs={"tiny": folder}, model="tiny")
    assert openvino.load(folder, settings).description.endswith("f32")
    with pytest.raises(ArtifactError, match="bf16"):
        openvino.load(folder, Settings(model_dirs={"tiny": folder}, model="tiny", precision="bf16"))


def test_export_command_names_the_problem_and_exits_non_zero() -> None:
    command = [sys.executable, "-m", "tools.export", "/nonexistent/model", "--id", "x"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "neither a folder nor an installed package" in done.stderr, done.stderr
