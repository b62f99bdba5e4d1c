"""An engine behind a thread-safe LRU cache of text → vector bounded in bytes, so repeated goals are encoded once."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from common.engines.base import Engine
from common.vectors import Matrix, Vectors, unit_rows

# What one cache entry costs beyond its vector: the 16-byte digest key, the array header, the LRU's links.
ENTRY_OVERHEAD_BYTES = 320


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


def text_key(text: str) -> bytes:
    """A 128-bit digest: every entry costs the same whatever the text's length (8,192 characters are 33 kB)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _entry_bytes(vector: Matrix) -> int:
    return int(vector.nbytes) + ENTRY_OVERHEAD_BYTES


class Encoder:
    def __init__(self, model_id: str, engine: Engine, cache_bytes: int, load_seconds: float = 0.0) -> None:
        self.model_id = model_id
        self.engine = engine
        self.load_seconds = load_seconds
        self.stats = CacheStats()
        self._cache: LRUCache[bytes, Matrix] | None = (
            LRUCache(cache_bytes, getsizeof=_entry_bytes) if cache_bytes else None
        )
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return self.engine.dimensions

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Unit vectors for texts, in order; each distinct uncached text is encoded once."""
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        missing: dict[bytes, tuple[str, list[int]]] = {}
        with self._lock:
            for index, text in enumerate(texts):
                key = text_key(text)
                cached = self._cache.get(key) if self._cache is not None else None
                if cached is None:
                    missing.setdefault(key, (text, []))[1].append(index)
                else:
                    vectors[index] = cached
            self.stats.hits += len(texts) - sum(len(indices) for _, indices in missing.values())
            self.stats.misses += len(missing)
        if not missing:
            return vectors
        # The engine runs outside the lock: other requests keep reading the cache meanwhile.
        fresh = self.engine.encode([text for text, _ in missing.values()])
        with self._lock:
            for (key, (_, indices)), vector in zip(missing.items(), fresh, strict=True):
                vectors[indices] = vector
                if self._cache is not None:
                    self._cache[key] = vector.copy()
        return vectors

    def vectors(self, texts: Sequence[str] | None, embeddings: Vectors | None, field: str) -> Matrix:
        """Unit vectors of the texts (encoded), else of the client's embeddings (checked against this model)."""
        if texts is not None:
            return self.encode(texts)
        return unit_rows(embeddings or [], self.dimensions, field)
