"""The process-wide runtime: settings read once and the model registry built from them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from common.config import Settings
from common.models import ModelRegistry


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    models: ModelRegistry

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings, ModelRegistry(settings))


@functools.cache
def get_runtime() -> Runtime:
    return Runtime.from_settings(Settings.from_environ())
