from __future__ import annotations

import subprocess
import sys

from common.config import PROJECT_ROOT

PROBE = (
    "import common.engines.openvino; from openvino.tools.ovc import telemetry_utils; print(telemetry_utils.tm.__name__)"
)


def test_engine_openvino_sends_no_telemetry() -> None:
    """Importing openvino must not fork a process that phones Google Analytics (no egress on cloud.gov)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "openvino.tools.ovc.telemetry_stub", result.stdout + result.stderr
