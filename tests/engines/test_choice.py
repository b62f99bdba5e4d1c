from __future__ import annotations

import pytest

from common.config import Settings
from common.engines import choice, openvino
from common.engines.choice import Cpu

INTEL, AMD = "GenuineIntel", "AuthenticAMD"
INTEL_AMX = Cpu("Xeon", INTEL, 6, frozenset(("avx2", "avx512f", "avx512_bf16", "amx_bf16")))
INTEL_AVX512_BF16 = Cpu("Xeon", INTEL, 6, frozenset(("avx2", "avx512f", "avx512_bf16")))
AMD_ZEN5 = Cpu("EPYC", AMD, 26, frozenset(("avx2", "avx512f", "avx512_bf16")))
AMD_ZEN4 = Cpu("EPYC", AMD, 25, frozenset(("avx2", "avx512f", "avx512_bf16")))
AMD_ZEN3 = Cpu("EPYC", AMD, 25, frozenset(("avx2", "fma")))


@pytest.mark.parametrize(
    ("cpu", "backend"),
    [
        (INTEL_AMX, "openvino"),
        (AMD_ZEN5, "openvino"),
        (AMD_ZEN4, "openvino"),
        (INTEL_AVX512_BF16, "onnxruntime"),
        (AMD_ZEN3, "onnxruntime"),
    ],
)
def test_auto_runs_openvino_only_where_bf16_beats_f32(cpu: Cpu, backend: str) -> None:
    assert choice.resolve("auto", cpu) == backend


def test_a_named_backend_is_kept_whatever_the_cpu() -> None:
    assert choice.resolve("openvino", AMD_ZEN3) == "openvino"
    assert choice.resolve("onnxruntime", INTEL_AMX) == "onnxruntime"


def test_this_cpu_is_read_from_this_machine() -> None:
    cpu = choice.this_cpu()
    assert "fpu" in cpu.flags  # every x86-64 CPU has it
    assert cpu.vendor in {INTEL, AMD}
    assert cpu.family > 0
    assert cpu.model


@pytest.mark.slow
def test_openvino_auto_runs_f32_where_bf16_is_slower(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenVINO's own default would be bf16 on any AVX-512 BF16, slower than f32 on Intel without AMX."""
    monkeypatch.setattr(choice, "this_cpu", lambda: INTEL_AVX512_BF16)
    settings = Settings.from_environ({"SIMFN_BACKEND": "openvino"})
    engine = openvino.load(settings.model_dirs[settings.model], settings)
    assert engine.description.endswith(" f32")
