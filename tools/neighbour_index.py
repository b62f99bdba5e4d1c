"""The CSV tool's neighbours for table-sized inputs: a faiss index that `community_groups` reads as its Neighbourhood.

Texts that repeat staff templates have hundreds of neighbours each, so a table of 100,000 has millions of pairs
above a review threshold: they are never all held. Degrees (how many neighbours each text has, which decides the
order in which centres take their groups) are counted chunk by chunk from the index's range searches; a centre's
group is computed exactly when it is its turn (up to `EXACT_NEAR_UP_TO` texts; the index's, re-scored, above).
The index is exact (IndexFlatIP) up to `EXACT_UP_TO` distinct texts and an inverted-file index of 8-bit codes
(IVF-SQ8) above, every hit re-scored exactly; the share of pairs it finds is measured (`recall`) and printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from common.clustering import representative
from common.similarity import TOLERANCE, Indices, Mask, Scores, best_matches, neighbours_of
from common.vectors import Matrix

# Exact search costs O(n² · d): on 2 cores, 50,000 texts take about a quarter of the time encoding them does
# where the CPU has bf16 (the fastest encoder), and far less than that on a CPU without.
EXACT_UP_TO = 50_000
CHUNK = 4_096  # queries per range search: hits are held for one chunk at a time
# Inverted lists searched per query (simfn-dedupe --probes): on 100,000 goals, 16 gave a grouping with ARI 0.91
# against the exact one and 4 one with 0.67, in 80 % of the time (docs/dedupe.md).
PROBES = 16
MARGIN = 0.02  # the approximate index is searched this far below a level; every hit is then re-scored exactly
# Up to here a centre's neighbours are computed exactly (a batch of centres x n similarities at once); above, the
# index's, re-scored.
EXACT_NEAR_UP_TO = 250_000
Progress = Callable[[int], None]


@dataclass
class Indexed:
    """Distinct texts' unit vectors behind a faiss index; `weights` counts the table rows each stands for."""

    vectors: Matrix
    weights: NDArray[np.int64]
    index: Any
    progress: Progress = lambda _: None

    def __len__(self) -> int:
        return len(self.weights)

    @property
    def exact_near(self) -> bool:
        return len(self) <= EXACT_NEAR_UP_TO

    @property
    def exact(self) -> bool:
        return not hasattr(self.index, "nprobe")

    def degrees(self, level: float, among: Mask | None) -> NDArray[np.int64]:
        """Each text's weight of neighbours at ≥ level, from range searches (the approximate index's 8-bit scores
        are not re-scored here: the degrees only order the centres)."""
        found = np.zeros(len(self), dtype=np.int64)
        rows = np.arange(len(self)) if among is None else np.flatnonzero(among)
        options = {} if self.exact else {"params": _only(among, self.index.nprobe)}
        for start in range(0, len(rows), CHUNK):
            queries = rows[start : start + CHUNK]
            chunk = np.ascontiguousarray(self.vectors[queries])
            limits, scores, hits = self.index.range_search(chunk, level - TOLERANCE, **options)
            of = np.repeat(np.arange(len(queries)), np.diff(limits.astype(np.int64)))
            keep = scores >= level - TOLERANCE
            if among is not None:
                keep &= among[hits]
            found[queries] = np.bincount(of, weights=np.where(keep, self.weights[hits], 0), minlength=len(queries))
            if among is None:
                self.progress(len(queries))
        return found

    def near(self, rows: Indices, level: float) -> list[Indices]:
        return neighbours_of(self.vectors, rows, level) if self.exact_near else self.searched(rows, level)

    def searched(self, rows: Indices, level: float) -> list[Indices]:
        """What the index finds for each row at ≥ level (itself included), re-scored."""
        limits, _, hits = self.index.range_search(np.ascontiguousarray(self.vectors[rows]), level - MARGIN)
        found = []
        for k, row in enumerate(rows.tolist()):
            near = hits[limits[k] : limits[k + 1]].astype(np.intp)
            # Re-scored in float32, so a pair is in or out by the same arithmetic as everywhere else.
            kept = near[self.vectors[near] @ self.vectors[row] >= level - TOLERANCE]
            found.append(np.union1d(kept, [row]))
        return found

    def weight(self, members: Indices) -> int:
        return int(self.weights[members].sum())

    def representative(self, members: Indices) -> int:
        return representative(self.vectors, members, self.weights)

    def best_of(self, rows: Indices, targets: Indices) -> tuple[Indices, Scores]:
        return best_matches(self.vectors, rows, targets)


def index_for(
    vectors: Matrix, approximate: bool, probes: int = PROBES, seed: int = 0, progress: Progress = lambda _: None
) -> Any:
    """An exact inner-product index, or an IVF one of 8-bit codes trained on a sample; either holds every vector."""
    import faiss  # the CSV tool's own dependency; production never loads it

    dimensions = vectors.shape[1]
    index: Any
    if not approximate:
        index = faiss.IndexFlatIP(dimensions)
    else:
        lists = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 39))  # faiss: ≥ 39 points a list
        # 8-bit codes: a quarter of the vectors' memory; their error is covered by MARGIN and exact re-scoring.
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dimensions), dimensions, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        size = min(len(vectors), 40 * lists)
        sample = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
        index.train(np.ascontiguousarray(vectors[sample]))
        index.nprobe = min(probes, lists)
    for _, chunk in _chunks(vectors):
        index.add(chunk)
        progress(len(chunk))
    return index


def recall(hood: Indexed, level: float, sample: int = 1_000, seed: int = 1) -> tuple[float, int]:
    """The share of the exact pairs at ≥ level that the index finds, over a sample of rows; and that many pairs."""
    rows = np.sort(np.random.default_rng(seed).choice(len(hood), size=min(sample, len(hood)), replace=False))
    found = sum(len(near) - 1 for near in hood.searched(rows, level))
    step = max(1, (1 << 24) // len(hood))  # 64 MB of similarities at a time
    exact = sum(
        int(np.count_nonzero(hood.vectors[rows[start : start + step]] @ hood.vectors.T >= level - TOLERANCE))
        for start in range(0, len(rows), step)
    ) - len(rows)
    return (found / exact if exact else 1.0), exact


def _only(among: Mask | None, probes: int) -> Any:
    """Search parameters that keep the index's answers to the rows in `among` (all when None)."""
    import faiss

    parameters: Any = faiss.SearchParametersIVF()
    parameters.nprobe = probes
    if among is not None:
        parameters.bits = np.packbits(among, bitorder="little")  # the selector reads this array: keep it alive
        parameters.sel = faiss.IDSelectorBitmap(len(among), faiss.swig_ptr(parameters.bits))
    return parameters


def _chunks(vectors: Matrix) -> Iterator[tuple[int, Matrix]]:
    for start in range(0, len(vectors), CHUNK):
        yield start, np.ascontiguousarray(vectors[start : start + CHUNK], dtype=np.float32)
