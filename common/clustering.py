"""Groups of near-duplicates from unit vectors (pure numpy), with an optional review band.

Community grouping, as sentence-transformers' community_detection: the text with the most neighbours
above the threshold takes its still-free neighbours as a group, then the next, and so on. Every member
is within the threshold of its group's centre, so a chain of small steps cannot merge two different goals.

With a review threshold below it, the duplicate groups stay exactly as they are; then each text left out
joins the group whose representative it is closest to, if that is at review level, and the texts still left
out are grouped among themselves at review level. Both kinds of member are `possible`, for a person to confirm.

The grouping reads its input through `Neighbourhood`: `Dense` recomputes from the vectors (time O(n² · d) in
blocks, memory O(n), so 10,000 copies of one goal cost a few megabytes, not 8 · n² bytes); the CSV tool gives
a faiss index instead (tools/neighbour_index.py), with a weight per distinct text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from common.similarity import TOLERANCE, Indices, Mask, Scores, best_matches, degrees, neighbours_of
from common.vectors import Matrix

MAX_BATCH = 64  # centres whose neighbours are found in one matrix product


@dataclass(frozen=True)
class Group:
    members: list[int]
    representative: int
    possible: list[int] = field(default_factory=list)  # members joined only at review level (sorted)


class Neighbourhood(Protocol):
    def __len__(self) -> int: ...

    def degrees(self, level: float, among: Mask | None) -> NDArray[np.int64]:
        """Each row's weight of neighbours (itself included) at cosine ≥ level, counting only `among`."""

    def near(self, rows: Indices, level: float) -> list[Indices]:
        """For each of rows, the sorted rows (itself included) at cosine ≥ level to it."""

    def weight(self, members: Indices) -> int: ...

    def representative(self, members: Indices) -> int: ...

    def best_of(self, rows: Indices, targets: Indices) -> tuple[Indices, Scores]:
        """For each row, the position in targets of its most similar one (-1 if none is known) and the cosine."""


def representative(vectors: Matrix, members: Indices, weights: NDArray[np.int64] | None = None) -> int:
    """The member with the highest total similarity to the group (Σ_j w_j v_i·v_j = v_i · Σ_j w_j v_j).

    Ties within rounding (always, in a pair) go to the first member, so texts and their stored vectors agree.
    """
    group = vectors[members]
    totals = group @ (group.sum(axis=0) if weights is None else weights[members] @ group)
    return int(members[int(np.flatnonzero(totals >= totals.max() - TOLERANCE)[0])])


@dataclass(frozen=True)
class Dense:
    """Every similarity recomputed from the vectors when it is needed."""

    vectors: Matrix

    def __len__(self) -> int:
        return len(self.vectors)

    def degrees(self, level: float, among: Mask | None) -> NDArray[np.int64]:
        return degrees(self.vectors, level, among)

    def near(self, rows: Indices, level: float) -> list[Indices]:
        return neighbours_of(self.vectors, rows, level)

    def weight(self, members: Indices) -> int:
        return len(members)

    def representative(self, members: Indices) -> int:
        return representative(self.vectors, members)

    def best_of(self, rows: Indices, targets: Indices) -> tuple[Indices, Scores]:
        return best_matches(self.vectors, rows, targets)


def _greedy(hood: Neighbourhood, level: float, min_size: int, among: Mask | None) -> list[Indices]:
    """Disjoint groups of weight ≥ min_size among the given rows, in the order they were taken."""
    degree = hood.degrees(level, among)
    free = np.ones(len(hood), dtype=bool) if among is None else among.copy()
    taken: list[Indices] = []
    # Centres by most neighbours first, then by index; the rest have too few neighbours to start a group.
    order = np.lexsort((np.arange(len(hood)), -degree))
    order = order[degree[order] >= min_size]
    # The next free centres' neighbours are found together (one matrix product, not one pass each); the batch
    # shrinks while most of it is taken by its own first centres, and grows while little is.
    size, at = 1, 0
    while at < len(order):
        window = order[at : at + 4 * MAX_BATCH]
        ready = np.flatnonzero(free[window])[:size]
        at += int(ready[-1]) + 1 if len(ready) else len(window)
        if not len(ready):
            continue
        batch = window[ready]
        used = 0
        for centre, near in zip(batch.tolist(), hood.near(batch, level), strict=True):
            if not free[centre]:
                continue
            used += 1
            members = near[free[near]]
            if hood.weight(members) >= min_size:
                free[members] = False
                taken.append(members)
        size = min(MAX_BATCH, size * 2) if used * 2 > len(batch) else max(1, size // 2)
    return taken


def community_groups(
    vectors: Matrix | Neighbourhood, threshold: float, min_size: int, review: float | None = None
) -> list[Group]:
    """Disjoint groups of at least min_size, largest first, then by first member; deterministic."""
    hood = Dense(vectors) if isinstance(vectors, np.ndarray) else vectors
    groups = [Group(m.tolist(), hood.representative(m)) for m in _greedy(hood, threshold, min_size, None)]
    if review is not None and review < threshold:
        groups = _review_band(hood, groups, review, min_size)
    groups.sort(key=lambda group: (-len(group.members), group.members[0]))
    return groups


def _review_band(hood: Neighbourhood, groups: list[Group], review: float, min_size: int) -> list[Group]:
    free = np.ones(len(hood), dtype=bool)
    for group in groups:
        free[group.members] = False
    left = np.flatnonzero(free)
    chosen, scores = hood.best_of(left, np.array([g.representative for g in groups], dtype=np.intp))
    joins = (chosen >= 0) & (scores >= review - TOLERANCE)
    extra: dict[int, list[int]] = {}
    for row, target in zip(left[joins].tolist(), chosen[joins].tolist(), strict=True):
        extra.setdefault(target, []).append(row)
    free[left[joins]] = False
    grown = [
        Group(sorted(g.members + extra[k]), g.representative, extra[k]) if k in extra else g
        for k, g in enumerate(groups)
    ]
    found = _greedy(hood, review, min_size, free)
    return grown + [Group(m.tolist(), hood.representative(m), m.tolist()) for m in found]
