"""Finding and loading models: an allow-list, an LRU cache of loaded encoders (one load per key), warm-up."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from cachetools import LRUCache

from common.batching import BatchingEngine
from common.config import Settings
from common.encoder import Encoder
from common.engines import choice
from common.engines.artifact import ArtifactError
from common.engines.base import Engine

logger = logging.getLogger(__name__)
EngineLoader = Callable[[Path, Settings], Engine]


class UnknownModelError(LookupError):
    """A model was asked for that is not on the allow-list."""

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(f"the model must be one of: {', '.join(allowed)}")


BACKEND_MODULES = {
    "openvino": "common.engines.openvino",
    "onnxruntime": "common.engines.onnxruntime",
    "sentence-transformers": "common.engines.sentence_transformers",
}


def import_backend(backend: str) -> ModuleType:
    """The backend's engine module (`auto` resolved for this CPU); its library is imported only if chosen."""
    return importlib.import_module(BACKEND_MODULES[choice.resolve(backend)])


def load_engine(folder: Path, settings: Settings) -> Engine:
    engine: Engine = import_backend(settings.backend).load(folder, settings)
    return engine


class ModelRegistry:
    def __init__(self, settings: Settings, loader: EngineLoader = load_engine) -> None:
        self.settings = settings
        self._loader = loader
        self._cache: LRUCache[tuple[str, str], Encoder] = LRUCache(settings.max_loaded_models)
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._ready = threading.Event()
        self._warm_up_started = False

    def get(self, model: str | None = None) -> Encoder:
        """The encoder for an allow-listed model id (the default model when None), loading it once."""
        name = model or self.settings.model
        folder = self.settings.model_dirs.get(name)
        if folder is None:
            raise UnknownModelError(list(self.settings.model_dirs))
        key = (name, self.settings.backend)
        with self._lock:
            encoder = self._cache.get(key)
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        if encoder is not None:
            return encoder
        with key_lock:  # concurrent first requests wait for one load instead of loading twice
            with self._lock:
                encoder = self._cache.get(key)
            if encoder is None:
                encoder = self._load(name, folder)
                with self._lock:
                    self._cache[key] = encoder
        return encoder

    def _load(self, name: str, folder: Path) -> Encoder:
        started = time.perf_counter()
        engine = self._loader(folder, self.settings)
        seconds = time.perf_counter() - started
        logger.info("model loaded", extra={"model": name, "engine": engine.description, "ms": round(seconds * 1000)})
        batching = BatchingEngine(engine, self.settings.batch_size)
        return Encoder(name, batching, self.settings.text_cache_mb << 20, seconds)

    def loaded(self) -> list[Encoder]:
        with self._lock:
            return list(self._cache.values())

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def warm_up(self) -> None:
        """Load the default model and encode once; the service is ready only after this succeeds."""
        self.get().encode(["warm-up"])
        self._ready.set()
        logger.info("ready")

    def start_warm_up(self, on_failure: Callable[[], None] = lambda: None) -> None:
        """Warm up in a background thread, once; a failure is logged, then on_failure runs."""
        with self._lock:
            if self._warm_up_started:
                return
            self._warm_up_started = True
        threading.Thread(target=self._warm_up_or_report, args=(on_failure,), name="warm-up", daemon=True).start()

    def _warm_up_or_report(self, on_failure: Callable[[], None]) -> None:
        try:
            self.warm_up()
        except ArtifactError as error:  # our own message, naming the file and both checksums
            logger.error("model artifact rejected: %s", error)
            on_failure()
        except Exception:
            logger.exception("model failed to load")
            on_failure()
