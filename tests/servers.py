"""Function servers started as Cloud Foundry would start them (python -m common.server), for the tests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    target: str,
    port: int,
    env: dict[str, str] | None = None,
    output: int = subprocess.PIPE,
    python: str = sys.executable,
    cwd: Path = PROJECT_ROOT,
) -> subprocess.Popen[str]:
    """The server process; `output` DEVNULL for a long run (an unread pipe fills and blocks its logging)."""
    return subprocess.Popen(
        [python, "-m", "common.server", target, "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def get(url: str, body: object = None, headers: dict[str, str] | None = None, timeout: float = 5) -> tuple[int, object]:
    """GET, or POST when there is a body; (status, JSON answer) for errors too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(url: str, status: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if get(url)[0] == status:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer {status} within {seconds} s")


@contextlib.contextmanager
def serving(
    target: str, env: dict[str, str] | None = None, python: str = sys.executable, cwd: Path = PROJECT_ROOT
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A ready server process and its port; stopped afterwards."""
    port = free_port()
    process = start(target, port, env, subprocess.DEVNULL, python, cwd)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", 200, seconds=30)
        yield process, port
    finally:
        process.kill()
        process.communicate(timeout=10)
