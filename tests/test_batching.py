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
        futures = []
        for index, pair in enumerate(texts):  # one at a time: threads submitted together may queue in any order
            futures.append(pool.submit(batching.encode, pair))
            _queued(batching, index + 1)
        engine.release.set()
        results = [future.result(5) for future in futures]
    assert first.result(5).shape == (1, engine.dimensions)
    assert engine.batches[1] == [text for pair in texts for text in pair]  # eight requests, one engine call
    assert engine.threads[0] != "batching"  # the first found the engine idle: it ran in its own thread
    assert engine.threads[1] == "batching"
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


class Failing(GatedEngine):
    def encode(self, texts: Sequence[str]) -> Matrix:
        vectors = super().encode(texts)
        if "bad" in texts:
            raise RuntimeError("engine failed")
        return vectors


def test_an_engine_error_reaches_every_request_of_the_merged_call_and_the_worker_goes_on() -> None:
    engine = Failing()
    batching = BatchingEngine(engine, max_texts=8)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(batching.encode, ["first"])
        assert engine.entered.wait(5)
        merged = [pool.submit(batching.encode, ["bad"])]
        _queued(batching, 1)
        merged.append(pool.submit(batching.encode, ["innocent"]))
        _queued(batching, 2)
        engine.release.set()
        assert first.result(5).shape == (1, engine.dimensions)
        for future in merged:
            with pytest.raises(RuntimeError, match="engine failed"):
                future.result(5)
    assert engine.batches[1] == ["bad", "innocent"]
    assert batching.encode(["good"]).shape == (1, engine.dimensions)


def test_an_engine_error_in_a_lone_call_is_its_own_and_frees_the_engine() -> None:
    engine = Failing()
    engine.entered.set()  # no gate
    batching = BatchingEngine(engine, max_texts=8)
    with pytest.raises(RuntimeError, match="engine failed"):
        batching.encode(["bad"])
    assert batching.encode(["good"]).shape == (1, engine.dimensions)


def test_a_lone_small_call_runs_in_its_callers_thread() -> None:
    engine = GatedEngine()
    engine.entered.set()  # no gate
    batching = BatchingEngine(engine, max_texts=8)
    for text in ("a", "b", "c"):
        np.testing.assert_array_equal(batching.encode([text]), FakeEngine().encode([text]))
    assert engine.threads == [threading.current_thread().name] * 3


def test_the_engine_runs_one_small_call_at_a_time_and_every_caller_gets_its_own_rows() -> None:
    class Counting(FakeEngine):
        def __init__(self) -> None:
            super().__init__()
            self.running = 0
            self.most = 0
            self.lock = threading.Lock()

        def encode(self, texts: Sequence[str]) -> Matrix:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            threading.Event().wait(0.001)
            with self.lock:
                self.running -= 1
            return super().encode(texts)

    engine = Counting()
    batching = BatchingEngine(engine, max_texts=8)
    texts = [[f"goal {index}"] for index in range(200)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(batching.encode, texts))
    assert engine.most == 1
    for text, vectors in zip(texts, results, strict=True):
        np.testing.assert_array_equal(vectors, FakeEngine().encode(text))
    assert sum(len(batch) for batch in engine.batches) == 200
