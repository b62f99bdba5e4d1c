from __future__ import annotations

import numpy as np

from common.vectors import normalize
from tools import scores


def test_sweep_counts_precision_recall_and_f1() -> None:
    similarity = np.array([0.9, 0.8, 0.4, 0.85], dtype=np.float32)
    positive = np.array([True, False, True, True])
    point = scores.sweep(similarity, positive, [0.8])[0]
    assert (point.precision, point.recall) == (2 / 3, 2 / 3) and abs(point.f1 - 2 / 3) < 1e-9
    assert scores.best(scores.sweep(similarity, positive, [0.3, 0.8, 0.95])).threshold == 0.3


def _chain() -> np.ndarray:
    """Four points on an arc, 30° apart: neighbours at cosine 0.87, the ends at cosine 0."""
    angles = np.radians([0, 30, 60, 90])
    return normalize(np.stack([np.cos(angles), np.sin(angles)], axis=1))


def test_components_chain_but_community_does_not() -> None:
    vectors = _chain()
    assert len(set(scores.components(vectors, 0.8).tolist())) == 1
    community = scores.community(vectors, 0.8)
    assert community[0] != community[3]


def test_average_linkage_cuts_at_one_minus_the_threshold() -> None:
    tree = scores.average_tree(_chain())
    assert len(set(scores.average_linkage(tree, 0.99).tolist())) == 4
    assert len(set(scores.average_linkage(tree, -1.0).tolist())) == 1


def test_cluster_score_rewards_the_gold_partition() -> None:
    gold = ["a", "a", "b", "c"]
    perfect = scores.cluster_score("x", 0.5, gold, np.array([0, 0, 1, 2]))
    assert (perfect.v_measure, perfect.ari, perfect.singletons, perfect.clusters) == (1.0, 1.0, 0.5, 1)
    assert scores.cluster_score("x", 0.5, gold, np.array([0, 0, 0, 0])).v_measure < 0.5
