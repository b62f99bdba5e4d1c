"""Cluster stored vectors in a fresh process, for bench.report: `python -m bench.cluster_probe VECTORS.npy THRESHOLD`.

Prints seconds, the process's peak RSS in MB and the number of groups; a fresh process so the peak is its own.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from bench.launch import rss_mb
from common.clustering import community_groups


def main() -> None:
    vectors = np.load(sys.argv[1])
    began = time.perf_counter()
    groups = community_groups(vectors, float(sys.argv[2]), 2)
    print(time.perf_counter() - began, rss_mb(os.getpid(), "VmHWM"), len(groups))


if __name__ == "__main__":
    main()
