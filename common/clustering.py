"""Groups of near-duplicates from unit vectors (pure numpy).

Community grouping, as sentence-transformers' community_detection: the text with the most neighbours
above the threshold takes its still-free neighbours as a group, then the next, and so on. Every member
is within the threshold of its group's centre, so a chain of small steps cannot merge two different goals.
Time O(n² · d) in blocks; memory O(n): degrees are counted block by block and each centre's neighbours are
recomputed when it is its turn, so 10,000 copies of one goal cost a few megabytes, not 8 · n² bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.similarity import TOLERANCE, Indices, degrees, neighbours_of
from common.vectors import Matrix


@dataclass(frozen=True)
class Group:
    members: list[int]
    representative: int


def representative(vectors: Matrix, members: Indices) -> int:
    """The member with the highest total similarity to the group (Σ_j v_i·v_j = v_i · Σ_j v_j).

    Ties within rounding (always, in a pair) go to the first member, so texts and their stored vectors agree.
    """
    group = vectors[members]
    totals = group @ group.sum(axis=0)
    return int(members[int(np.flatnonzero(totals >= totals.max() - TOLERANCE)[0])])


def community_groups(vectors: Matrix, threshold: float, min_size: int) -> list[Group]:
    """Disjoint groups of at least min_size, largest first, then by first member; deterministic."""
    degree = degrees(vectors, threshold)
    free = np.ones(len(vectors), dtype=bool)
    groups: list[Group] = []
    # Centres by most neighbours first, then by index; the rest have too few neighbours to start a group.
    for centre in np.lexsort((np.arange(len(vectors)), -degree)):
        if degree[centre] < min_size:
            break
        if not free[centre]:
            continue
        near = neighbours_of(vectors, int(centre), threshold)
        members = near[free[near]]
        if len(members) >= min_size:
            free[members] = False
            groups.append(Group(members.tolist(), representative(vectors, members)))
    groups.sort(key=lambda group: (-len(group.members), group.members[0]))
    return groups
