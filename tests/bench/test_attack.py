from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.attack import Result
from common.config import PROJECT_ROOT


def _result(**overrides: object) -> Result:
    values: dict[str, object] = {
        "function": "embed",
        "case": "c",
        "answers": {"200": 3, "413 payload_too_large": 1},
        "peak_mb": 250.0,
        "quota_mb": 288,
        "after_mb": 240.0,
        "health_max_ms": 20.0,
        "health_limit_ms": 5000.0,
        "seconds": 1.0,
    }
    values.update(overrides)
    return Result(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "ok"),
    [
        ({}, True),
        ({"peak_mb": 290.0}, False),
        ({"health_max_ms": 1200.0}, True),
        ({"health_max_ms": 5000.0}, False),
        ({"answers": {"200": 1, "ConnectionResetError": 1}}, False),
        ({"answers": {"500 internal": 1}}, False),
        ({"answers": {"413 not JSON": 1}}, False),
        ({"answers": {"503 draining": 2, "429 overloaded": 1}}, True),
    ],
)
def test_attack_result_is_within_only_under_quota_healthy_and_fully_answered(
    overrides: dict[str, object], ok: bool
) -> None:
    assert _result(**overrides).ok is ok


@pytest.mark.slow
def test_attack_benchmark_short_version_keeps_every_function_within_its_quota(tmp_path: Path) -> None:
    """Every case of the issue's table against the production command and vars: a few minutes."""
    out, page = tmp_path / "attack.json", tmp_path / "memory.md"
    command = [sys.executable, "-m", "bench.attack", "--quick", "--out", str(out), "--page", str(page)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    results = json.loads(out.read_text())
    failed = [f"{r['function']}: {r['case']} {r['answers']} peak {r['peak_mb']:.0f}" for r in results if not r["ok"]]
    assert (done.returncode, failed) == (0, []), done.stdout[-3000:] + done.stderr[-3000:]
    assert {r["function"] for r in results} == {"embed", "compare", "cluster"}
