from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.encoder import ENTRY_OVERHEAD_BYTES, Encoder
from tests.fakes import DIMENSIONS, FakeEngine

ENTRY = DIMENSIONS * 4 + ENTRY_OVERHEAD_BYTES


def test_encoder_encodes_each_distinct_text_once() -> None:
    engine = FakeEngine()
    vectors = Encoder("m", engine, cache_bytes=10 * ENTRY).encode(["a", "b", "a"])
    assert engine.batches == [["a", "b"]]
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])


def test_encoder_serves_repeats_from_the_cache() -> None:
    engine, encoder = FakeEngine(), None
    encoder = Encoder("m", engine, cache_bytes=10 * ENTRY)
    first = encoder.encode(["a", "b"])
    second = encoder.encode(["b", "c", "a"])
    assert engine.batches == [["a", "b"], ["c"]]
    assert np.array_equal(second[[2, 0]], first)
    assert (encoder.stats.hits, encoder.stats.misses) == (2, 3)


def test_encoder_cache_is_bounded_least_recently_used_first() -> None:
    engine = FakeEngine()
    encoder = Encoder("m", engine, cache_bytes=2 * ENTRY)
    encoder.encode(["a"])
    encoder.encode(["b"])
    encoder.encode(["a"])  # a is now more recent than b
    encoder.encode(["c"])  # evicts b
    encoder.encode(["a", "b"])
    assert engine.batches == [["a"], ["b"], ["c"], ["b"]]


def test_encoder_without_cache_always_encodes() -> None:
    engine = FakeEngine()
    encoder = Encoder("m", engine, cache_bytes=0)
    encoder.encode(["a"])
    encoder.encode(["a"])
    assert engine.batches == [["a"], ["a"]]


def test_encoder_is_correct_under_concurrent_requests() -> None:
    engine = FakeEngine()
    encoder = Encoder("m", engine, cache_bytes=50 * ENTRY)
    batches = [[f"t{(i * 7 + k) % 80}" for k in range(12)] for i in range(64)]
    expected = [engine.encode(batch) for batch in batches]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(encoder.encode, batches))
    wrong = [i for i, (got, want) in enumerate(zip(results, expected, strict=True)) if not np.array_equal(got, want)]
    assert wrong == [], f"batches with wrong vectors: {wrong}"


def test_encoder_cache_entry_costs_the_same_for_any_text_length() -> None:
    engine = FakeEngine()
    encoder = Encoder("m", engine, cache_bytes=2 * ENTRY)
    long_texts = ["x" * 8192, "y😀" * 4000]
    encoder.encode(long_texts)
    encoder.encode(long_texts)
    assert engine.batches == [long_texts], "two long texts must fit a cache of two entries"
