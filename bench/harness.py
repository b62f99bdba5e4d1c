"""What every benchmark shares: the machine's description, goal-like texts, and a function server process."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common.config import PROJECT_ROOT
from tools.corpus import goal

START_TIMEOUT_S = 60


def machine() -> str:
    cpu = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line)
    return f"{cpu.split(':')[1].strip()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"


def goal_texts(count: int, seed: int) -> list[str]:
    """Distinct goal-like texts of 8-30 words (distinct, so no cache helps)."""
    rng = random.Random(seed)
    return [f"{goal(rng)} (plan {seed}-{index})" for index in range(count)]


def post(port: int, body: object, timeout: float = 120) -> int:
    data = json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        status: int = response.status
        return status


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


@contextlib.contextmanager
def server(
    target: str, port: int, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """A function server on loopback and its cold start: process start → first 200 from a real request."""
    command = [sys.executable, "-m", "common.server", target, "--port", str(port)]
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    first = {"embed": {"texts": ["warm"]}, "compare": {"text_1": "a", "text_2": "b"}, "cluster": {"texts": ["a"]}}
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken: another server would answer in this one's place")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environ, stdout=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} server exited with {process.returncode} (is port {port} taken?)")
            try:
                if post(port, first[target]) == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise RuntimeError(f"{target} server did not answer within {START_TIMEOUT_S} s") from None
                time.sleep(0.01)
        yield process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=15)
