"""The machine a figure was measured on: CPU model, the flags that decide engine speed, cores, Python."""

from __future__ import annotations

import os
import platform

from common.engines import choice

FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """The flags above that this CPU has (read once, by the engines' own reader)."""
    return [flag for flag in FLAGS if flag in choice.cpu_flags()]


def describe() -> str:
    cpu = choice.this_cpu()  # a virtual machine's model name may be only "AMD EPYC": the family tells more
    cores = len(os.sched_getaffinity(0))
    flags = " ".join(cpu_flags()) or "no AVX2"
    return f"{cpu.model} (family {cpu.family}; {flags}), {cores} cores, Python {platform.python_version()}"
