"""The process-wide runtime: settings read once, the model registry and the admission gate built from them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from common.config import HEALTH_THREADS, Settings
from common.models import EngineLoader, ModelRegistry, load_engine
from common.serving.admission import Admission


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    models: ModelRegistry
    admission: Admission

    @classmethod
    def from_settings(cls, settings: Settings, loader: EngineLoader = load_engine) -> Runtime:
        # Two waitress threads are never given to inference, so health checks answer under full load.
        queue = settings.threads - settings.working_threads - HEALTH_THREADS
        admission = Admission(settings.max_inflight, queue, settings.queue_seconds, settings.small_inflight)
        return cls(settings, ModelRegistry(settings, loader), admission)


@functools.cache
def get_runtime() -> Runtime:
    return Runtime.from_settings(Settings.from_environ())
