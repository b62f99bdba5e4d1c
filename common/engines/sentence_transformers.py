"""sentence-transformers engine (needs torch): any sentence-transformers model folder, as the reference runs it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from common.config import Settings
from common.vectors import Matrix


def load(folder: Path, settings: Settings) -> SentenceTransformerEngine:
    return SentenceTransformerEngine(folder, settings)


class SentenceTransformerEngine:
    def __init__(self, folder: Path, settings: Settings) -> None:
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self._batch_size = settings.batch_size
        dimensions = self._model.get_embedding_dimension()
        if dimensions is None:
            raise ValueError(f"{folder} does not say its embedding dimension")
        self.dimensions = dimensions
        self.description = "sentence-transformers (torch) f32"

    def count_tokens(self, texts: Sequence[str]) -> int:
        return int(self._model.tokenize(list(texts))["attention_mask"].sum())

    def encode(self, texts: Sequence[str]) -> Matrix:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)
