"""Which backend and precision `auto` runs on this CPU: the fastest exact one here (docs/engines.md).

Measured with bench.engines, batch 32, in one run per CPU: OpenVINO bf16 passes the parity gate and beats the
f32 engines with AMX (~3x) and on AMD's AVX-512 BF16 (real goals, Zen 5: 433 vs 300 texts/s; Zen 4: 314 vs 177);
on an Intel AVX-512 BF16 without AMX it is slower than f32 (224 vs 322 texts/s; 114 vs 173 GFLOP/s). Elsewhere
ONNX Runtime f32 is the faster f32 engine on real goals (AVX2-only AMD Zen 3: 246 vs 220 texts/s; the Intel
AVX-512 BF16 without AMX: 199 vs 170; Zen 5: 300 vs 273; Zen 4: 177 vs 148) and holds less memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

# The CPU computes bf16 natively: export measures the bf16 parity gate, bench its matrix throughput.
BF16_FLAGS = frozenset(("avx512_bf16", "amx_bf16"))
AMD = "AuthenticAMD"


@dataclass(frozen=True)
class Cpu:
    model: str
    vendor: str
    family: int
    flags: frozenset[str]


@functools.cache
def this_cpu() -> Cpu:
    """The first processor of /proc/cpuinfo (all cores of a machine here are alike)."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if not line.strip():
            break
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    family = fields.get("cpu family", "0")
    flags = frozenset(fields.get("flags", "").split())
    return Cpu(fields.get("model name", ""), fields.get("vendor_id", ""), int(family) if family.isdigit() else 0, flags)


def cpu_flags() -> frozenset[str]:
    return this_cpu().flags


def fast_bf16(cpu: Cpu | None = None) -> bool:
    """Whether bf16 beats f32 here: with AMX, or AMD's AVX-512 BF16 (measured on Zen 4 and Zen 5)."""
    cpu = cpu or this_cpu()
    return "amx_bf16" in cpu.flags or (cpu.vendor == AMD and "avx512_bf16" in cpu.flags)


def resolve(backend: str, cpu: Cpu | None = None) -> str:
    """`auto` → `openvino` (bf16) where bf16 beats f32, else `onnxruntime` (f32); any other name as it is."""
    if backend != "auto":
        return backend
    return "openvino" if fast_bf16(cpu) else "onnxruntime"
