"""A resumable file of unit vectors: a .npy array filled chunk by chunk, and a JSON record of what it holds.

The record names the model and the texts (a digest of them, in order) and how many rows are written; an
interrupted run reopens the file and encodes only the rest. A file for other texts or another model is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from common.vectors import Matrix


class VectorFileError(Exception):
    """The vector file cannot be used for this run; the message says why and what to do."""


@dataclass(frozen=True)
class Record:
    model: str
    texts_sha256: str
    rows: int
    dimensions: int
    done: int


def texts_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())
    return digest.hexdigest()


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


class VectorFile:
    """The array (memory-mapped) and its record; `written(n)` records progress after each chunk."""

    def __init__(self, path: Path, record: Record, array: np.memmap[tuple[int, int], np.dtype[np.float32]]) -> None:
        self.path, self.record, self.array = path, record, array

    @classmethod
    def open(cls, path: Path, model: str, texts: Sequence[str], dimensions: int) -> VectorFile:
        """The file for these texts and this model: resumed if it is theirs, created if it does not exist."""
        wanted = Record(model, texts_digest(texts), len(texts), dimensions, 0)
        if path.exists():
            found = read_record(path)
            if replace(found, done=0) != wanted:
                raise VectorFileError(
                    f"{path} holds vectors of other texts or another model ({found.rows} rows of {found.model}); "
                    "delete it or name another file with --vectors"
                )
            return cls(path, found, np.load(path, mmap_mode="r+"))
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(texts), dimensions))
        vectors = cls(path, wanted, array)
        vectors.written(0)
        return vectors

    def written(self, done: int) -> None:
        """Flush the rows so far, then record them (the record never claims rows that are not on disk)."""
        self.array.flush()
        self.record = replace(self.record, done=done)
        temporary = record_path(self.path).with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self.record)))
        os.replace(temporary, record_path(self.path))

    @property
    def complete(self) -> bool:
        return self.record.done == self.record.rows


def read_record(path: Path) -> Record:
    try:
        return Record(**json.loads(record_path(path).read_text()))
    except (OSError, ValueError, TypeError):
        raise VectorFileError(f"{path}: no readable record {record_path(path).name} beside it") from None


def load(path: Path) -> Matrix:
    """A complete vector file's array, memory-mapped read-only (for the grouping stage alone)."""
    record = read_record(path)
    if record.done != record.rows:
        raise VectorFileError(f"{path}: only {record.done} of {record.rows} rows are written; finish the run first")
    array: Matrix = np.load(path, mmap_mode="r")
    return array
