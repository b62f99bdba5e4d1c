"""The encoding engine interface: texts in, unit vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from common.vectors import Matrix


class Engine(Protocol):
    """Turns texts into unit vectors, one row per text, in input order."""

    dimensions: int
    description: str  # library, version and precision, for logs and benchmarks

    def encode(self, texts: Sequence[str]) -> Matrix: ...

    def count_tokens(self, texts: Sequence[str]) -> int:
        """The tokens the model reads for these texts (after truncation), special tokens included."""
        ...
