"""An engine behind a bounded, thread-safe LRU cache of text → vector, so repeated goals are encoded once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from common.engines.base import Engine
from common.vectors import Matrix, unit_rows


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class Encoder:
    def __init__(self, model_id: str, engine: Engine, cache_size: int, load_seconds: float = 0.0) -> None:
        self.model_id = model_id
        self.engine = engine
        self.load_seconds = load_seconds
        self.stats = CacheStats()
        self._cache: LRUCache[str, Matrix] | None = LRUCache(cache_size) if cache_size else None
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return self.engine.dimensions

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Unit vectors for texts, in order; each distinct uncached text is encoded once."""
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for index, text in enumerate(texts):
                cached = self._cache.get(text) if self._cache is not None else None
                if cached is None:
                    missing.setdefault(text, []).append(index)
                else:
                    vectors[index] = cached
            self.stats.hits += len(texts) - sum(map(len, missing.values()))
            self.stats.misses += len(missing)
        if not missing:
            return vectors
        # The engine runs outside the lock: other requests keep reading the cache meanwhile.
        fresh = self.engine.encode(list(missing))
        with self._lock:
            for (text, indices), vector in zip(missing.items(), fresh, strict=True):
                vectors[indices] = vector
                if self._cache is not None:
                    self._cache[text] = vector.copy()
        return vectors

    def vectors(self, texts: Sequence[str] | None, embeddings: Sequence[Sequence[float]] | None, field: str) -> Matrix:
        """Unit vectors of the texts (encoded), else of the client's embeddings (checked against this model)."""
        if texts is not None:
            return self.encode(texts)
        return unit_rows(embeddings or [], self.dimensions, field)
