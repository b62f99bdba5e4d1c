"""Scores for duplicate detection: rank correlation, precision/recall/F1 by threshold, clustering quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import spearmanr
from sklearn.metrics import adjusted_rand_score, v_measure_score

from common.clustering import community_groups
from common.similarity import neighbours
from common.vectors import Matrix

Labels = NDArray[np.int64]
ALGORITHMS = ("components", "community", "average-linkage")


@dataclass(frozen=True)
class Point:
    threshold: float
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class ClusterScore:
    algorithm: str
    threshold: float
    v_measure: float
    ari: float
    singletons: float  # share of texts left alone
    clusters: int  # groups of two or more


def pair_cosines(first: Matrix, second: Matrix) -> NDArray[np.float32]:
    cosines: NDArray[np.float32] = np.einsum("ij,ij->i", first, second)
    return cosines


def spearman(scores: Sequence[float], gold: Sequence[float]) -> float:
    return float(spearmanr(scores, gold).statistic)


def sweep(scores: NDArray[np.float32], positive: NDArray[np.bool_], thresholds: Sequence[float]) -> list[Point]:
    """Precision, recall and F1 of "similarity ≥ threshold means duplicate", at each threshold."""
    points = []
    for threshold in thresholds:
        predicted = scores >= threshold
        hits = int(np.sum(predicted & positive))
        precision = hits / max(1, int(predicted.sum()))
        recall = hits / max(1, int(positive.sum()))
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        points.append(Point(round(threshold, 4), precision, recall, f1))
    return points


def best(points: Sequence[Point]) -> Point:
    return max(points, key=lambda point: (point.f1, point.threshold))


def components(vectors: Matrix, threshold: float) -> Labels:
    """Connected components of the graph joining every pair at or above the threshold (chains merge)."""
    near = neighbours(vectors, threshold)
    rows = np.repeat(np.arange(len(near)), [len(n) for n in near])
    graph = csr_matrix((np.ones(len(rows)), (rows, np.concatenate(near))), shape=(len(near), len(near)))
    return np.asarray(connected_components(graph, directed=False)[1], dtype=np.int64)


def community(vectors: Matrix, threshold: float) -> Labels:
    """The cluster function's algorithm; texts in no group get a label of their own."""
    labels = np.arange(len(vectors), dtype=np.int64) + len(vectors)
    for index, group in enumerate(community_groups(vectors, threshold, min_size=2)):
        labels[group.members] = index
    return labels


def average_linkage(tree: NDArray[np.float64], threshold: float) -> Labels:
    """Cut an average-linkage tree (cosine distances) where the distance exceeds 1 - threshold."""
    return np.asarray(fcluster(tree, t=1.0 - threshold, criterion="distance"), dtype=np.int64)


def average_tree(vectors: Matrix) -> NDArray[np.float64]:
    return np.asarray(linkage(vectors.astype(np.float64), method="average", metric="cosine"))


def cluster_score(algorithm: str, threshold: float, gold: Sequence[str], labels: Labels) -> ClusterScore:
    sizes = np.bincount(np.unique(labels, return_inverse=True)[1])
    return ClusterScore(
        algorithm,
        round(threshold, 4),
        float(v_measure_score(gold, labels)),
        float(adjusted_rand_score(gold, labels)),
        float(np.sum(sizes == 1) / len(labels)),
        int(np.sum(sizes >= 2)),
    )
