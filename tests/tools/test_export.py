from __future__ import annotations

from pathlib import Path

import pytest

from common.config import Settings
from common.engines.artifact import REQUIRED_FILES, sha256_of, verify
from tools.export import export

pytestmark = pytest.mark.slow


def test_export_rebuilds_the_artifact_byte_for_byte(tmp_path: Path) -> None:
    settings = Settings()
    built = verify(settings.model_dirs[settings.model])
    fresh = verify(export(tmp_path / "artifact"))
    for name in REQUIRED_FILES:
        assert sha256_of(fresh.folder / name) == sha256_of(built.folder / name), f"{name} differs from the build"
    assert fresh.provenance["source"] == built.provenance["source"]
