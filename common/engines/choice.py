"""Which backend and precision `auto` runs on this CPU: the fastest exact one here (docs/engines.md).

Measured with bench.engines, batch 32, in one run per CPU: with AMX, OpenVINO bf16 passes the parity gate at
~3x the f32 engines; with AVX-512 BF16 but no AMX, OpenVINO bf16 is slower than f32 (224 vs 322 texts/s;
its matrix products 114 vs 173 GFLOP/s), so bf16 pays only with AMX. Without it, ONNX Runtime f32 is the
faster f32 engine on real goals (AVX2-only AMD Zen 3: 246 vs 220 texts/s; AVX-512 BF16 Xeon: 199 vs 170)
and holds ~60 MB less.
"""

from __future__ import annotations

import functools
from pathlib import Path

# The CPU computes bf16 natively: export measures the bf16 parity gate, bench its matrix throughput.
BF16_FLAGS = frozenset(("avx512_bf16", "amx_bf16"))
# ... and fast enough that bf16 is what `auto` runs.
FAST_BF16_FLAG = "amx_bf16"


@functools.cache
def cpu_flags() -> frozenset[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def fast_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether bf16 beats f32 here: only with AMX."""
    return FAST_BF16_FLAG in (cpu_flags() if flags is None else flags)


def resolve(backend: str, flags: frozenset[str] | None = None) -> str:
    """`auto` → `openvino` (bf16) on a CPU with AMX, else `onnxruntime` (f32); any other name as it is."""
    if backend != "auto":
        return backend
    return "openvino" if fast_bf16(flags) else "onnxruntime"
