"""The production server, booted as a real process the way Cloud Foundry starts it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT, Settings
from common.server import create_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(target: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "common.server", target, "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _get(url: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(url: str, status: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if _get(url)[0] == status:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer {status} within {seconds} s")


@pytest.fixture
def embed_server() -> Iterator[str]:
    port = _free_port()
    process = _start("embed", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt"])
def test_create_app_answers_the_frameworks_own_routes_in_json(path: str) -> None:
    response = create_app("embed").test_client().get(path)
    assert (response.status_code, response.json) == (404, {"error": "Not Found", "error_type": "not_found"})


def test_create_app_refuses_unknown_functions() -> None:
    with pytest.raises(ValueError, match="unknown function 'nope'"):
        create_app("nope")


@pytest.mark.slow
def test_server_answers_health_at_once_then_becomes_ready_and_serves(embed_server: str) -> None:
    _wait_for(f"{embed_server}/healthz", 200, seconds=20)
    _wait_for(f"{embed_server}/readyz", 200, seconds=20)
    status, body = _get(embed_server, {"texts": ["Improve family engagement"]})
    assert status == 200 and isinstance(body, dict) and len(body["embeddings"][0]) == 384, body


@pytest.mark.slow
def test_server_exits_non_zero_on_a_corrupt_artifact(tmp_path: Path) -> None:
    settings = Settings()
    shutil.copytree(settings.model_dirs[settings.model], tmp_path / "model")
    with (tmp_path / "model" / "model.onnx").open("r+b") as graph:
        graph.seek(1000)
        graph.write(b"\x00corrupt\x00")
    process = _start("embed", _free_port(), {"SIMFN_MODELS": f"all-MiniLM-L6-v2={tmp_path / 'model'}"})
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 1 and "model.onnx is corrupt" in output, output


def test_server_exits_non_zero_on_bad_settings() -> None:
    process = _start("embed", _free_port(), {"SIMFN_BACKEND": "torch"})
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 1 and "SIMFN_BACKEND" in output, output
