from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from common.batching import BatchingEngine
from common.vectors import Matrix
from tests.fakes import FakeEngine


class GatedEngine(FakeEngine):
    """Holds its first call until released, so the calls made meanwhile queue up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.threads.append(threading.current_thread().name)
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(5)
        return super().encode(texts)


def _queued(batching: BatchingEngine, count: int) -> None:
    while batching.queued < count:
        threading.Event().wait(0.001)


def test_calls_made_while_the_engine_is_busy_share_one_engine_call() -> None:
    engine = GatedEngine()
    batching = BatchingEngine(engine, max_texts=32)
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(batching.encode, ["first"])
        assert engine.entered.wait(5)
        texts = [[f"goal {index}", f"other {index}"] for index in range(8)]
        futures = [pool.submit(batching.encode, pair) for pair in texts]
        _queued(batching, 8)
        engine.release.set()
        results = [future.result(5) for future in futures]
    assert first.result(5).shape == (1, engine.dimensions)
    assert engine.batches[1] == [text for pair in texts for text in pair]  # eight requests, one engine call
    for pair, vectors in zip(texts, results, strict=True):
        np.testing.assert_array_equal(vectors, FakeEngine().encode(pair))  # each gets its own rows, in order


def test_a_merged_call_carries_at_most_max_texts_and_the_queue_is_first_in_first_out() -> None:
    engine = GatedEngine()
    batching = BatchingEngine(engine, max_texts=4)
    with ThreadPoolExecutor(6) as pool:
        pool.submit(batching.encode, ["first"])
        assert engine.entered.wait(5)
        futures = []
        for index in range(5):
            futures.append(pool.submit(batching.encode, [f"a{index}", f"b{index}"]))
            _queued(batching, index + 1)
        engine.release.set()
        for future in futures:
            future.result(5)
    assert [len(batch) for batch in engine.batches[1:]] == [4, 4, 2]
    assert engine.batches[1] == ["a0", "b0", "a1", "b1"]


def test_a_large_call_runs_in_its_callers_thread_and_does_not_queue() -> None:
    engine = GatedEngine()
    engine.entered.set()  # no gate
    batching = BatchingEngine(engine, max_texts=2)
    vectors = batching.encode(["a", "b", "c"])
    assert vectors.shape == (3, engine.dimensions)
    assert engine.threads == [threading.current_thread().name]
    batching.encode(["a"])
    assert engine.threads[-1] == "batching"


def test_an_engine_error_reaches_every_request_of_the_merged_call_and_the_worker_goes_on() -> None:
    class Failing(FakeEngine):
        def encode(self, texts: Sequence[str]) -> Matrix:
            if "bad" in texts:
                raise RuntimeError("engine failed")
            return super().encode(texts)

    batching = BatchingEngine(Failing(), max_texts=8)
    with pytest.raises(RuntimeError, match="engine failed"):
        batching.encode(["bad"])
    assert batching.encode(["good"]).shape == (1, Failing.dimensions)
