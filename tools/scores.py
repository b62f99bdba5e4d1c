"""Scores for duplicate detection: rank correlation, precision/recall/F1 by threshold, clustering quality.

Used by simfn-calibrate (tools.calibrate) and the evaluation on public data (eval.run).
"""

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
from sklearn.metrics.cluster import contingency_matrix

from common.clustering import community_groups
from common.similarity import TOLERANCE, neighbours
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
    pair_precision: float  # of "same group", over all pairs of texts
    pair_recall: float


def pair_cosines(first: Matrix, second: Matrix) -> NDArray[np.float32]:
    cosines: NDArray[np.float32] = np.einsum("ij,ij->i", first, second)
    return cosines


def spearman(scores: Sequence[float], gold: Sequence[float]) -> float:
    return float(spearmanr(scores, gold).statistic)


def sweep(scores: NDArray[np.float32], positive: NDArray[np.bool_], thresholds: Sequence[float]) -> list[Point]:
    """Precision, recall and F1 of "similarity ≥ threshold means duplicate" (as the service decides), per threshold."""
    order = np.argsort(scores, kind="stable")
    ranked, labels = scores[order], positive[order]
    cuts = np.searchsorted(ranked, np.asarray(thresholds, dtype=np.float64) - TOLERANCE, side="left")
    positives_from = np.concatenate([np.cumsum(labels[::-1])[::-1], [0]])  # positives at or after each rank
    points = []
    for threshold, cut in zip(thresholds, cuts.tolist(), strict=True):
        hits, predicted = int(positives_from[cut]), len(ranked) - cut
        precision = hits / max(1, predicted)
        recall = hits / max(1, int(labels.sum()))
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        points.append(Point(round(threshold, 4), precision, recall, f1))
    return points


def best(points: Sequence[Point]) -> Point:
    return max(points, key=lambda point: (point.f1, point.threshold))


def lowest_precise(points: Sequence[Point], precision: float) -> Point | None:
    """The lowest threshold from which precision stays at or above the target at every higher threshold.

    Thresholds too high to call anything a duplicate are passed over; None if even the highest misses the target.
    """
    chosen = None
    for point in sorted(points, key=lambda p: -p.threshold):
        if point.recall == 0:
            continue
        if point.precision < precision:
            break
        chosen = point
    return chosen


def highest_recall(points: Sequence[Point], recall: float) -> Point | None:
    """The highest threshold that still finds at least this share of the duplicates (a review band's lower end)."""
    reaching = [point for point in points if point.recall >= recall]
    return max(reaching, key=lambda point: point.threshold) if reaching else None


def pairwise(gold: Sequence[str], labels: Labels) -> tuple[float, float]:
    """Precision and recall of "same group" over all pairs of texts: predicted pairs that share a gold group."""
    table = contingency_matrix(gold, labels, sparse=True)
    together = float((table.data * (table.data - 1)).sum() / 2)
    predicted = float(sum(n * (n - 1) / 2 for n in np.asarray(table.sum(axis=0)).ravel()))
    actual = float(sum(n * (n - 1) / 2 for n in np.asarray(table.sum(axis=1)).ravel()))
    return together / max(1.0, predicted), together / max(1.0, actual)


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
        *pairwise(gold, labels),
    )


def v_measure(gold: Sequence[str] | NDArray[np.str_], labels: Labels) -> float:
    return float(v_measure_score(gold, labels))
