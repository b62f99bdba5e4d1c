from __future__ import annotations

import os
import platform

from common.engines import choice
from tools import machine


def test_describe_names_the_cpu_family_its_engine_flags_cores_and_python() -> None:
    text = machine.describe()
    assert f"family {choice.this_cpu().family};" in text
    assert f"{len(os.sched_getaffinity(0))} cores" in text
    assert text.endswith(f"Python {platform.python_version()}")
    assert set(machine.cpu_flags()) <= set(machine.FLAGS) & choice.cpu_flags()
