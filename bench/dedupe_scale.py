"""The CSV tool's grouping stage alone on a stored vector file: time, peak memory and the index's recall.

python -m bench.dedupe_scale VECTORS.npy [--threshold 0.75] [--review-threshold R]
python -m bench.dedupe_scale VECTORS.npy --grow SOURCE.npy --rows 1000000   # first write a larger file
python -m bench.dedupe_scale VECTORS.npy --against-exact   # also group exactly and say how far apart they are
--grow: each new row is a row of SOURCE (a vector file simfn-dedupe wrote) moved by Gaussian noise of a random
size and re-normalized, so the file keeps the source's neighbourhoods and adds clouds of near-duplicates.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from common.clustering import Group
from tools.dedupe import group_texts, neighbours
from tools.machine import describe
from tools.neighbour_index import PROBES, Indexed, index_for, recall
from tools.scores import pairwise
from tools.vector_file import VectorFile, load


def grow(source: Path, out: Path, rows: int, seed: int = 0) -> None:
    base = load(source)
    rng = np.random.default_rng(seed)
    names = [f"grown {seed} {n}" for n in range(rows)]
    stored = VectorFile.open(out, f"grown from {source.name}", names, base.shape[1])
    for start in range(0, rows, 50_000):
        count = min(50_000, rows - start)
        picked = base[np.sort(rng.integers(len(base), size=count))]
        noise = rng.standard_normal(picked.shape).astype(np.float32)
        moved = picked + noise * rng.uniform(0.0, 0.06, size=(count, 1)).astype(np.float32)
        stored.array[start : start + count] = moved / np.linalg.norm(moved, axis=1, keepdims=True)
        stored.written(start + count)


def _agreement(found: list[Group], truth: list[Group], count: int) -> str:
    """How alike two groupings are: ARI, and the share of exact same-group pairs the other also puts together."""
    from sklearn.metrics import adjusted_rand_score

    labels = [np.arange(count) + count, np.arange(count) + count]
    for side, groups in zip(labels, (found, truth), strict=True):
        for number, group in enumerate(groups):
            side[group.members] = number
    precision, recall = pairwise([str(label) for label in labels[1]], labels[0])
    return (
        f"ARI {adjusted_rand_score(labels[1], labels[0]):.4f} against the exact grouping; of the pairs it puts in "
        f"one group {precision:.2%} are in one exact group, and it joins {recall:.2%} of the exact groups' pairs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vectors", type=Path)
    parser.add_argument("--grow", type=Path, help="write VECTORS from this smaller vector file first")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threshold", type=float, default=0.75)
    parser.add_argument("--review-threshold", type=float)
    parser.add_argument("--probes", type=int, default=PROBES, help="lists the approximate index searches")
    parser.add_argument("--against-exact", action="store_true", help="also group with the exact index; compare")
    args = parser.parse_args()
    if args.grow:
        grow(args.grow, args.vectors, args.rows)
    vectors = load(args.vectors)
    weights = np.ones(len(vectors), dtype=np.int64)
    started = time.perf_counter()
    hood, how = neighbours(vectors, weights, "auto", args.probes)
    indexed = time.perf_counter()
    groups = group_texts(hood, args.threshold, args.review_threshold)
    done = time.perf_counter()
    share, pairs = recall(hood, args.threshold)
    if args.against_exact:
        exact = time.perf_counter()
        truth = group_texts(
            Indexed(vectors, weights, index_for(vectors, approximate=False)), args.threshold, args.review_threshold
        )
        print(f"exact: {time.perf_counter() - exact:.1f} s; {_agreement(groups, truth, len(vectors))}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = [len(g.members) for g in groups]
    print(
        f"{describe()}\npython -m bench.dedupe_scale {args.vectors} --threshold {args.threshold} --probes {args.probes}"
    )
    print(
        f"{len(vectors):,} vectors, neighbours {how}: index {indexed - started:.1f} s, "
        f"grouping {done - indexed:.1f} s; "
        f"{len(groups):,} groups holding {sum(sizes):,} vectors (largest {max(sizes, default=0)}); the index finds "
        f"{share:.2%} of the {pairs:,} pairs ≥ {args.threshold} of 1,000 sampled vectors; peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
