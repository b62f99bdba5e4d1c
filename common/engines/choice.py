"""Which backend `auto` runs on this CPU: the one that is exact and smallest here.

Measured (bench.attack, embed after 1,000 requests; docs/performance.md): where the CPU computes bf16
natively (AVX-512 BF16 or AMX), OpenVINO in bf16 passes the parity gate and holds ~225 MB; elsewhere
OpenVINO runs f32 and holds ~290 MB, ONNX Runtime f32 ~210 MB (and is the faster of the two there).
"""

from __future__ import annotations

import functools
from pathlib import Path

BF16_FLAGS = frozenset(("avx512_bf16", "amx_bf16"))


@functools.cache
def cpu_flags() -> frozenset[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def resolve(backend: str) -> str:
    """`auto` → `openvino` on a CPU with native bf16, else `onnxruntime`; any other name as it is."""
    if backend != "auto":
        return backend
    return "openvino" if BF16_FLAGS & cpu_flags() else "onnxruntime"
