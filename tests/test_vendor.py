"""Offline staging: the wheels `make vendor` gathers install into an empty virtualenv with no index and serve."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT
from tests.servers import get, serving

VENDOR = PROJECT_ROOT / "vendor"


def _pip_environment() -> dict[str, str]:
    """No pip configuration, index or find-links of this machine's: vendor/ is all there is, as on cloud.gov."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.mark.slow
def test_the_production_set_installs_from_vendor_alone_and_serves(tmp_path: Path) -> None:
    subprocess.run(["make", "--no-print-directory", "vendor"], cwd=PROJECT_ROOT, check=True, capture_output=True)
    wheels = sorted(path.name for path in VENDOR.glob("*.whl"))
    assert wheels and all("manylinux" in name or name.endswith("-none-any.whl") for name in wheels), wheels
    venv.create(tmp_path / "env", with_pip=True)
    python = str(tmp_path / "env" / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(VENDOR)]
    subprocess.run([*install, "-r", str(PROJECT_ROOT / "requirements.txt")], check=True, env=_pip_environment())
    found = subprocess.run([python, "-c", "import torch"], capture_output=True)
    assert found.returncode != 0, "torch must not be in the production set"
    with serving("embed", {"SIMFN_API_KEYS": "vendor-key"}, python=python) as (_, port):
        status, body = get(
            f"http://127.0.0.1:{port}/", {"texts": ["Hold monthly parent workshops"]}, {"X-API-Key": "vendor-key"}
        )
    assert status == 200 and len(body["embeddings"][0]) == 384, body  # type: ignore[index]
    assert sys.version_info[:2] == tuple(int(part) for part in _runtime_python().split(".")), (
        "test on runtime.txt's Python"
    )


def _runtime_python() -> str:
    """The major.minor of runtime.txt (python-3.11.x)."""
    return (PROJECT_ROOT / "runtime.txt").read_text().strip().removeprefix("python-").rsplit(".", 1)[0]
