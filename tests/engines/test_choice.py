from __future__ import annotations

import pytest

from common.config import Settings
from common.engines import choice, openvino

AMX = frozenset(("avx2", "avx512f", "avx512_bf16", "amx_bf16"))
AVX512_BF16 = frozenset(("avx2", "avx512f", "avx512_bf16"))
AVX2 = frozenset(("avx2", "fma"))


@pytest.mark.parametrize(("flags", "backend"), [(AMX, "openvino"), (AVX512_BF16, "onnxruntime"), (AVX2, "onnxruntime")])
def test_auto_runs_openvino_only_where_bf16_beats_f32(flags: frozenset[str], backend: str) -> None:
    assert choice.resolve("auto", flags) == backend


def test_a_named_backend_is_kept_whatever_the_cpu() -> None:
    assert choice.resolve("openvino", AVX2) == "openvino"
    assert choice.resolve("onnxruntime", AMX) == "onnxruntime"


def test_cpu_flags_are_read_from_this_machine() -> None:
    assert "fpu" in choice.cpu_flags()  # every x86-64 CPU has it


@pytest.mark.slow
def test_openvino_auto_runs_f32_without_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenVINO's own default would be bf16 on AVX-512 BF16 alone, where it is slower than f32."""
    monkeypatch.setattr(choice, "cpu_flags", lambda: AVX512_BF16)
    settings = Settings.from_environ({"SIMFN_BACKEND": "openvino"})
    engine = openvino.load(settings.model_dirs[settings.model], settings)
    assert engine.description.endswith(" f32")
