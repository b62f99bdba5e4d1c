"""Batching across requests: small encode calls from concurrent requests run as one engine call.

Many clients each sending one goal (the as-you-type duplicate check) would otherwise make one engine call per
text, each paying the model's per-call overhead. A call of at most `max_texts` texts that finds the engine idle
runs at once in its caller's thread (a lone request pays no hand-off: 0.2 ms for one text, measured in-process);
one arriving while the engine is busy joins a queue, and one worker takes every call queued at that moment, up
to `max_texts` texts in all, and runs them together once the engine is free. Nothing waits for a window.
Larger calls bypass the queue and run in their caller's thread (the engine bounds their memory per call), so no
small request waits behind a large one, and the queue is first in, first out.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from common.engines.base import Engine
from common.vectors import Matrix


@dataclass
class _Call:
    texts: Sequence[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: Matrix | None = None
    error: BaseException | None = None


class BatchingEngine:
    """An engine whose small calls, made at once from several threads, share engine calls."""

    def __init__(self, engine: Engine, max_texts: int) -> None:
        self.engine = engine
        self.max_texts = max_texts
        self.dimensions = engine.dimensions
        self.description = engine.description
        self._queue: deque[_Call] = deque()
        self._ready = threading.Condition()
        self._busy = False  # a small call is running: new ones queue
        self._worker: threading.Thread | None = None

    @property
    def queued(self) -> int:
        """Calls waiting for the worker."""
        return len(self._queue)

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.engine.count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> Matrix:
        if len(texts) > self.max_texts:
            return self.engine.encode(texts)
        with self._ready:
            alone = not self._busy and not self._queue
            if alone:
                self._busy = True
            else:
                call = _Call(texts)
                if self._worker is None:  # one worker: measured, a second made smaller batches and was slower
                    self._worker = threading.Thread(target=self._work, name="batching", daemon=True)
                    self._worker.start()
                self._queue.append(call)
        if alone:
            try:
                return self.engine.encode(texts)
            finally:
                self._free()
        call.done.wait()
        if call.error is not None:
            raise call.error
        assert call.vectors is not None
        return call.vectors

    def _free(self) -> None:
        """The engine is free: the worker takes what queued meanwhile."""
        with self._ready:
            self._busy = False
            if self._queue:  # else the worker has nothing to take: waking it would only cost a thread switch
                self._ready.notify()

    def _take(self) -> list[_Call]:
        """Once the engine is free, the calls queued then, oldest first, up to max_texts texts (at least one)."""
        with self._ready:
            while self._busy or not self._queue:
                self._ready.wait()
            self._busy = True
            taken = [self._queue.popleft()]
            count = len(taken[0].texts)
            while self._queue and count + len(self._queue[0].texts) <= self.max_texts:
                taken.append(self._queue.popleft())
                count += len(taken[-1].texts)
        return taken

    def _work(self) -> None:
        while True:
            calls = self._take()
            try:
                vectors = self.engine.encode([text for call in calls for text in call.texts])
                ends = np.cumsum([len(call.texts) for call in calls[:-1]])
                for call, rows in zip(calls, np.split(vectors, ends), strict=True):
                    call.vectors = rows
            except BaseException as error:  # every waiting request gets the engine's error as its own
                for call in calls:
                    call.error = error
            finally:
                self._free()
                for call in calls:
                    call.done.set()
