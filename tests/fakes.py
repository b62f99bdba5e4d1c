"""A fast, deterministic stand-in engine for request-handling tests (never proof that the product works)."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.config import DEFAULT_MODEL, Settings
from common.runtime import Runtime
from common.vectors import Matrix, normalize

DIMENSIONS = 8


class FakeEngine:
    """A unit vector seeded by each text's CRC; records every batch it is asked to encode."""

    description = "fake"
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(text.split()) + 2 for text in texts)

    def encode(self, texts: Sequence[str]) -> Matrix:
        with self._lock:
            self.batches.append(list(texts))
        rows = [np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIMENSIONS) for text in texts]
        return normalize(np.array(rows).reshape(len(texts), DIMENSIONS))


def fake_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"model_dirs": {DEFAULT_MODEL: Path("/nonexistent")}}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def fake_runtime(engine: FakeEngine | None = None, **overrides: object) -> Runtime:
    engine = engine or FakeEngine()
    return Runtime.from_settings(fake_settings(**overrides), loader=lambda folder, settings: engine)
