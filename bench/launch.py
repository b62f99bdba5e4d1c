"""The one launcher of the benchmarks: a function started with its production command, as Cloud Foundry would.

The command and environment come from manifest.yml and vars/<environment>.yml (tools.cloudfoundry), with the
key service bound; only the host is loopback. Yields the process, its port, its quota and its cold start
(process start → first 200 of a real request).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client
from common.config import PROJECT_ROOT
from tools.cloudfoundry import TEST_KEY, instance_environment, manifest

START_TIMEOUT_S = 60
KEY = {"X-API-Key": TEST_KEY}
FIRST = {"embed": {"texts": ["warm"]}, "compare": {"text_1": "a", "text_2": "b"}, "cluster": {"texts": ["a"]}}


@dataclass(frozen=True)
class Instance:
    process: subprocess.Popen[bytes]
    port: int
    quota_mb: int
    health_timeout_s: int  # Cloud Foundry restarts an instance whose /healthz takes longer
    cold_start_s: float

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def instance(function: str, environment: str = "prod", env: dict[str, str] | None = None) -> Iterator[Instance]:
    app = manifest(environment).app(function)
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        environ = {**instance_environment(app, port, Path(home)), **(env or {})}
        started = time.perf_counter()
        process = subprocess.Popen(
            ["bash", "-c", app.command], cwd=PROJECT_ROOT, env=environ, stdout=subprocess.DEVNULL
        )
        try:
            cold = _first_200(process, port, function, started)
            yield Instance(process, port, app.memory_mb, app.health_check_invocation_timeout, cold)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _first_200(process: subprocess.Popen[bytes], port: int, function: str, started: float) -> float:
    with Client(port, timeout=60) as client:
        while client.post(FIRST[function], KEY).status != 200:
            if process.poll() is not None:
                raise RuntimeError(f"{function} exited with {process.returncode} (is port {port} taken?)")
            if time.perf_counter() - started > START_TIMEOUT_S:
                raise RuntimeError(f"{function} did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.01)
    return time.perf_counter() - started


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")
