"""Stored vectors into cluster as JSON numbers and as base64 float32: bytes, seconds, the server's peak memory.

python -m bench.vector_formats [--counts 2500 5000 10000] [--repeats 3]

Each form and count gets a fresh cluster instance (production command, vars/prod.yml), so each peak RSS is its
own; JSON is written as embed writes it (each float32 in its shortest form). Bodies over the limits are
reported with the answer they get.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
import orjson

from bench.client import Client
from bench.launch import KEY, instance, rss_mb
from common.vectors import normalize, to_base64
from tools.machine import describe


@dataclass(frozen=True)
class Measured:
    form: str
    count: int
    body_mb: float
    answer: str  # "200" or the error it got
    seconds: float  # median over repeats, request sent to answer read
    peak_mb: float  # the cluster instance's VmHWM afterwards
    quota_mb: int


def body(form: str, vectors: np.ndarray) -> bytes:
    if form == "json":
        return orjson.dumps({"embeddings": vectors}, option=orjson.OPT_SERIALIZE_NUMPY)
    return orjson.dumps({"embeddings": to_base64(vectors)})


def measure(form: str, count: int, repeats: int) -> Measured:
    vectors = normalize(np.random.default_rng(count).standard_normal((count, 384)))
    data = body(form, vectors)
    with instance("cluster") as target, Client(target.port) as client:
        answers = [client.post(data, KEY) for _ in range(repeats)]
        peak = rss_mb(target.pid, "VmHWM")
    seconds = statistics.median(answer.seconds for answer in answers)
    return Measured(form, count, len(data) / 1e6, answers[0].kind, seconds, peak, target.quota_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2500, 5000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(form, count, args.repeats) for count in args.counts for form in ("json", "base64")]
    print(f"# Stored vectors into cluster, {time.strftime('%Y-%m-%d %H:%M')} on {describe()}")
    print(f"`python -m bench.vector_formats --counts {' '.join(map(str, args.counts))}`; median of {args.repeats}\n")
    print("| vectors | form | body MB | answer | seconds | server peak MB / quota |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.count:,} | {row.form} | {row.body_mb:.1f} | {row.answer} | {row.seconds:.2f} "
            f"| {row.peak_mb:.0f} / {row.quota_mb} |"
        )


if __name__ == "__main__":
    main()
